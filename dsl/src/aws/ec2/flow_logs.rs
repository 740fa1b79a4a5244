//! VPC flow logs.

use cairn_engine::{InputIssue, ResourceView};

use crate::checks::{literal_i64, one_of, required};
use crate::resource;

resource! {
    /// A flow log that captures the IP traffic of every network interface of a VPC and
    /// delivers it to an S3 bucket or a CloudWatch Logs log group. The destination (and, for
    /// CloudWatch Logs, the delivery role) must exist first.
    FlowLog(FlowLogArgs, FlowLogOutputs) "aws:ec2/FlowLog" {
        taggable: true,
        create_before_delete: false,
        validate: validate_flow_log,
        inputs {
            /// The VPC whose traffic it captures.
            vpc_id: String [force_new],
            /// `ALL`, `ACCEPT` or `REJECT`.
            traffic_type: String [force_new],
            /// `s3` or `cloud-watch-logs`.
            log_destination_type: String [force_new],
            /// The bucket's ARN (`arn:aws:s3:::bucket`, optionally `/prefix/`) or the log
            /// group's ARN (without the trailing `:*`).
            log_destination: String [force_new],
            /// Seconds over which a flow record is aggregated: 60 or 600 (the default).
            max_aggregation_interval: i64 [force_new],
            /// The record format, for example `${version} ${srcaddr} ${dstaddr} ${action}`
            /// (default: the AWS default format).
            log_format: String [force_new],
            /// The role that lets the service write to CloudWatch Logs (only, and always,
            /// for `cloud-watch-logs`).
            deliver_logs_permission_arn: String [force_new],
        }
        outputs {
            /// The flow log id (`fl-…`).
            id: String,
        }
    }
}

fn validate_flow_log(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found =
        required(view, &["vpc_id", "traffic_type", "log_destination_type", "log_destination"]);
    found.extend(one_of(view, "traffic_type", &["ALL", "ACCEPT", "REJECT"]));
    found.extend(one_of(view, "log_destination_type", &["s3", "cloud-watch-logs"]));
    if let Some(seconds) =
        literal_i64(view, "max_aggregation_interval").filter(|seconds| ![60, 600].contains(seconds))
    {
        found.push(InputIssue::new(
            "max_aggregation_interval",
            format!("{seconds} s is not an aggregation interval AWS offers"),
            "use 60 or 600",
        ));
    }
    let has_role = view.input("deliver_logs_permission_arn").is_some();
    match view.literal_str("log_destination_type") {
        Some("cloud-watch-logs") if !has_role => found.push(InputIssue::new(
            "deliver_logs_permission_arn",
            "delivery to CloudWatch Logs needs a role",
            "set `deliver_logs_permission_arn` to a role the flow logs service may assume",
        )),
        Some("s3") if has_role => found.push(InputIssue::new(
            "deliver_logs_permission_arn",
            "delivery to S3 takes no role (the bucket policy grants access)",
            "leave `deliver_logs_permission_arn` unset",
        )),
        _ => {}
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::faults;

    fn flow_log(destination_type: &str) -> FlowLog {
        FlowLog::new("flow-log")
            .vpc_id("vpc-1")
            .traffic_type("ALL")
            .log_destination_type(destination_type)
            .log_destination("arn:aws:s3:::bucket")
    }

    #[test]
    fn flow_logs_take_what_aws_offers() {
        assert!(faults(flow_log("s3").max_aggregation_interval(60_i64)).is_empty());
        assert_eq!(
            faults(flow_log("s3").max_aggregation_interval(300_i64)),
            ["max_aggregation_interval"]
        );
        assert_eq!(faults(flow_log("kinesis")), ["log_destination_type"]);
        assert_eq!(faults(flow_log("s3").traffic_type("SOME")), ["traffic_type"]);
        assert_eq!(faults(flow_log("cloud-watch-logs")), ["deliver_logs_permission_arn"]);
        assert_eq!(
            faults(flow_log("s3").deliver_logs_permission_arn("arn")),
            ["deliver_logs_permission_arn"]
        );
    }
}
