//! CloudWatch Logs log groups and metric filters.

use cairn_engine::{InputIssue, ResourceView};
use serde_json::Value;

use crate::checks::{literal_i64, number, required};
use crate::resource;

resource! {
    /// A log group. Its name is its identity: a replacement deletes the old group first.
    LogGroup(LogGroupArgs, LogGroupOutputs) "aws:logs/LogGroup" {
        taggable: true,
        create_before_delete: false,
        validate: validate_log_group,
        inputs {
            /// The group's name (include the environment suffix); changing it makes a new group.
            name: String [force_new, name],
            /// The ARN of the KMS key that encrypts the group's data. Changing it makes a new
            /// group (cairn does not call `AssociateKmsKey`); the key's policy must let the
            /// `logs.<region>.amazonaws.com` service principal use it.
            kms_key_id: String [force_new],
            /// How many days events are kept (one of the values AWS offers); unset keeps them
            /// forever.
            retention_in_days: i64,
        }
        outputs {
            /// The group's name.
            id: String,
            /// The group's ARN (without the trailing `:*`).
            arn: String,
        }
    }
}

/// The retention periods CloudWatch Logs accepts, in days.
const RETENTION_DAYS: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

fn validate_log_group(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(view, &["name"]);
    found.extend(check_group_name(view, "name"));
    found.extend(
        literal_i64(view, "retention_in_days").filter(|days| !RETENTION_DAYS.contains(days)).map(
            |days| {
                let allowed: Vec<String> = RETENTION_DAYS.iter().map(i64::to_string).collect();
                InputIssue::new(
                    "retention_in_days",
                    format!("{days} days is not a retention period AWS offers"),
                    format!("use one of {}", allowed.join(", ")),
                )
            },
        ),
    );
    found
}

/// An issue when the literal log group name in `property` has characters AWS refuses.
fn check_group_name(view: &ResourceView<'_>, property: &str) -> Option<InputIssue> {
    let name = view.literal_str(property)?;
    let valid = (1..=512).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c));
    (!valid).then(|| {
        InputIssue::new(
            property,
            format!("`{name}` is not a log group name"),
            "use 1 to 512 letters, digits and . _ - / #",
        )
    })
}

resource! {
    /// Turns matching log events of a log group into a CloudWatch metric.
    MetricFilter(MetricFilterArgs, MetricFilterOutputs) "aws:logs/MetricFilter" {
        taggable: false,
        create_before_delete: false,
        validate: validate_metric_filter,
        inputs {
            /// The log group it reads (the group must exist first: reference its `id`).
            log_group_name: String [force_new],
            /// The filter's name, unique in the group; changing it makes a new filter.
            name: String [force_new, name],
            /// The filter pattern, for example `[version, account, eni, source, destination,
            /// srcport, destport, protocol, packets, bytes, start, end, action="REJECT", status]`.
            pattern: String,
            /// The metric's name.
            metric_name: String,
            /// The metric's namespace.
            metric_namespace: String,
            /// What each matching event adds to the metric, for example `"1"` or `"$bytes"`.
            metric_value: String,
            /// The value published when no event matches in a period, a number (`json!(0)`).
            default_value: Value,
        }
        outputs {
            /// `<log group name>:<filter name>`.
            id: String,
        }
    }
}

fn validate_metric_filter(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(
        view,
        &["log_group_name", "name", "pattern", "metric_name", "metric_namespace", "metric_value"],
    );
    found.extend(check_group_name(view, "log_group_name"));
    found.extend(number(view, "default_value"));
    found.extend(view.literal_str("name").filter(|name| name.contains([':', '*'])).map(|name| {
        InputIssue::new("name", format!("`{name}` contains `:` or `*`"), "leave them out")
    }));
    found
}
