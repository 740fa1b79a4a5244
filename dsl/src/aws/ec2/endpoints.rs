//! Gateway VPC endpoints (S3, DynamoDB).
