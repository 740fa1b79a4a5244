//! AWS resource types, one module per service.

pub mod ec2;
