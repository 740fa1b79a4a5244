//! VPC flow logs.
