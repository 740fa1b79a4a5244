//! CloudWatch Logs log groups and metric filters.

mod log_group;
mod metric_filter;

use crate::resources::Handler;

/// The handler of a type token of this module.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    match type_token {
        "aws:logs/LogGroup" => Some(&log_group::LogGroupHandler),
        "aws:logs/MetricFilter" => Some(&metric_filter::MetricFilterHandler),
        _ => None,
    }
}
