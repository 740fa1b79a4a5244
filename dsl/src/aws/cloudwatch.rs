//! Amazon CloudWatch alarms and dashboards.
