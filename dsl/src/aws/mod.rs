//! AWS resource types, one module per service.

pub mod cloudwatch;
pub mod config;
pub mod ec2;
pub mod iam;
pub mod kms;
pub mod logs;
pub mod s3;
pub mod secretsmanager;
