//! Amazon CloudWatch alarms and dashboards.

use std::collections::BTreeMap;

use cairn_engine::{InputIssue, ResourceView};
use serde_json::Value;

use crate::checks::{json_object_text, literal_i64, number, one_of, required};
use crate::resource;

resource! {
    /// An alarm on one CloudWatch metric, compared with a static threshold.
    MetricAlarm(MetricAlarmArgs, MetricAlarmOutputs) "aws:cloudwatch/MetricAlarm" {
        taggable: true,
        create_before_delete: false,
        validate: validate_metric_alarm,
        inputs {
            /// The alarm's name, unique in the account and region (include the environment
            /// suffix); changing it makes a new alarm.
            alarm_name: String [force_new, name],
            /// The metric's namespace, for example `AWS/NATGateway` or a custom one.
            namespace: String,
            /// The metric's name.
            metric_name: String,
            /// `SampleCount`, `Average`, `Sum`, `Minimum` or `Maximum`.
            statistic: String,
            /// The length of one evaluation period in seconds: 10, 20, 30 or a multiple of 60.
            period: i64,
            /// How many periods are compared with the threshold (at least 1).
            evaluation_periods: i64,
            /// The threshold, a number (`json!(100)` or `json!(0.5)`).
            threshold: Value,
            /// `GreaterThanOrEqualToThreshold`, `GreaterThanThreshold`, `LessThanThreshold` or
            /// `LessThanOrEqualToThreshold`.
            comparison_operator: String,
            /// The metric's dimensions, name to value.
            dimensions: BTreeMap<String, String>,
            /// How missing data points count: `breaching`, `notBreaching`, `ignore` or `missing`.
            treat_missing_data: String,
            /// A description of the alarm.
            alarm_description: String,
            /// ARNs of what to notify (SNS topics, ...) when the alarm fires.
            alarm_actions: Vec<String>,
        }
        outputs {
            /// The alarm's name.
            id: String,
            /// The alarm's ARN.
            arn: String,
        }
    }
}

/// The statistics a metric alarm accepts.
const STATISTICS: [&str; 5] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

/// The comparisons of an alarm on a static threshold.
const COMPARISONS: [&str; 4] = [
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
];

/// How an alarm may treat missing data.
const MISSING_DATA: [&str; 4] = ["breaching", "notBreaching", "ignore", "missing"];

fn validate_metric_alarm(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(
        view,
        &[
            "alarm_name",
            "namespace",
            "metric_name",
            "statistic",
            "period",
            "evaluation_periods",
            "threshold",
            "comparison_operator",
        ],
    );
    found.extend(
        [
            one_of(view, "statistic", &STATISTICS),
            one_of(view, "comparison_operator", &COMPARISONS),
            one_of(view, "treat_missing_data", &MISSING_DATA),
            number(view, "threshold"),
            check_period(view),
            literal_i64(view, "evaluation_periods").filter(|periods| *periods < 1).map(|periods| {
                InputIssue::new(
                    "evaluation_periods",
                    format!("{periods} evaluation periods"),
                    "evaluate at least 1 period",
                )
            }),
        ]
        .into_iter()
        .flatten(),
    );
    found
}

fn check_period(view: &ResourceView<'_>) -> Option<InputIssue> {
    let period = literal_i64(view, "period")?;
    let valid = matches!(period, 10 | 20 | 30) || (period >= 60 && period % 60 == 0);
    (!valid).then(|| {
        InputIssue::new(
            "period",
            format!("a period of {period} s"),
            "use 10, 20, 30 or a multiple of 60 seconds",
        )
    })
}

resource! {
    /// A CloudWatch dashboard. Dashboards carry no tags: cairn finds one by its name.
    Dashboard(DashboardArgs, DashboardOutputs) "aws:cloudwatch/Dashboard" {
        taggable: false,
        create_before_delete: false,
        validate: validate_dashboard,
        inputs {
            /// The dashboard's name, unique in the account (include the environment suffix);
            /// changing it makes a new dashboard.
            dashboard_name: String [force_new, name],
            /// The dashboard's body: a JSON object with its `widgets` (see
            /// [`json_document`](crate::json_document)).
            dashboard_body: String,
        }
        outputs {
            /// The dashboard's name.
            id: String,
            /// The dashboard's ARN.
            arn: String,
        }
    }
}

fn validate_dashboard(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(view, &["dashboard_name", "dashboard_body"]);
    found.extend(json_object_text(view, "dashboard_body"));
    found
}
