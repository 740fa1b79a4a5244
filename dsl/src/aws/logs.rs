//! CloudWatch Logs log groups and metric filters.
