//! CloudWatch alarms and dashboards.

mod alarm;
mod dashboard;

use crate::resources::Handler;

/// The handler of a type token of this module.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    match type_token {
        "aws:cloudwatch/MetricAlarm" => Some(&alarm::MetricAlarmHandler),
        "aws:cloudwatch/Dashboard" => Some(&dashboard::DashboardHandler),
        _ => None,
    }
}
