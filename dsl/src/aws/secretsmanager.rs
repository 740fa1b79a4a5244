//! AWS Secrets Manager look-ups (data sources: read, never created).
