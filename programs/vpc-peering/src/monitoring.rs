//! Flow logs and alarms. Every VPC logs ALL traffic (60 s aggregation) to one KMS-encrypted,
//! destroyable bucket in account A. Each side also logs REJECTed traffic to a KMS-encrypted
//! log group, where a metric filter counts rejected packets for an alarm; a NAT gateway, when
//! there is one, gets a packet-drop alarm. One dashboard in A covers both VPCs.

use cairn::Input;
use cairn::aws::cloudwatch::{Dashboard, MetricAlarm};
use cairn::aws::ec2::FlowLog;
use cairn::aws::iam::{Role, RolePolicy};
use cairn::aws::kms::{Alias, Key};
use cairn::aws::logs::{LogGroup, MetricFilter};
use cairn::aws::s3::Bucket;
use cairn::{Binding, Declare, Output, Resource, interpolate, json_template, object, tags};
use serde_json::{Value, json};

use super::network::Network;
use super::{PeeringConfig, SideContext};

/// The namespace of the metrics the program's metric filters publish.
pub const METRIC_NAMESPACE: &str = "Cairn/VpcPeering";

/// The log format of the S3 flow logs: the default fields, then the VPC, subnet and
/// direction.
const S3_LOG_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} \
    ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} \
    ${log-status} ${vpc-id} ${subnet-id} ${flow-direction}";

/// The metric filter pattern that matches rejected records of the default format.
const REJECTED_PATTERN: &str = "[version, account, eni, source, destination, srcport, destport, \
    protocol, packets, bytes, windowstart, windowend, action=\"REJECT\", flowlogstatus]";

/// The central flow-log bucket in account A, shared with AWS Config's deliveries.
pub struct LogArchive {
    /// The bucket.
    pub bucket: Resource<Bucket>,
}

/// Declares the KMS key and the bucket every flow log writes to, in account A.
pub fn declare_archive(
    place: &Binding,
    config: &PeeringConfig,
    side: &SideContext<'_>,
) -> LogArchive {
    let accounts = json!([config.trading.account_id, config.analytics.account_id]);
    let key = service_key(
        place,
        side,
        "flow-logs-key".to_owned(),
        "flow-logs-key",
        "Encrypts the VPC flow logs of the trading/analytics peering".to_owned(),
        json!({
            "Sid": "FlowLogDeliveryEncrypts",
            "Effect": "Allow",
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": accounts}}
        }),
    );
    place.add(
        Alias::new("flow-logs-key-alias")
            .name(format!("alias/{}", side.aws_name("flow-logs")))
            .target_key_id(key.id()),
    );
    let bucket_name = format!(
        "{}-flow-logs-{}-{}",
        config.stack, config.trading.account_id, config.environment_suffix
    );
    let bucket_policy = json_template(
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AWSLogDeliveryWrite",
                    "Effect": "Allow",
                    "Principal": {"Service": "delivery.logs.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::${bucket}/AWSLogs/*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": accounts, "s3:x-amz-acl": "bucket-owner-full-control"}}
                },
                {
                    "Sid": "AWSLogDeliveryAclCheck",
                    "Effect": "Allow",
                    "Principal": {"Service": "delivery.logs.amazonaws.com"},
                    "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                    "Resource": "arn:aws:s3:::${bucket}",
                    "Condition": {"StringEquals": {"aws:SourceAccount": accounts}}
                },
                {
                    "Sid": "AWSConfigBucketCheck",
                    "Effect": "Allow",
                    "Principal": {"Service": "config.amazonaws.com"},
                    "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                    "Resource": "arn:aws:s3:::${bucket}",
                    "Condition": {"StringEquals": {"aws:SourceAccount": accounts}}
                },
                {
                    "Sid": "AWSConfigBucketDelivery",
                    "Effect": "Allow",
                    "Principal": {"Service": "config.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::${bucket}/config/AWSLogs/*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": accounts, "s3:x-amz-acl": "bucket-owner-full-control"}}
                }
            ]
        }),
        [("bucket", Input::string(&bucket_name))],
    );
    let bucket = place.add(
        Bucket::new("flow-logs-bucket")
            .bucket(&bucket_name)
            .force_destroy(true)
            .kms_key_arn(key.arn())
            .block_public_access(true)
            .policy(bucket_policy)
            .lifecycle_expiration_days(config.monitoring.flow_log_bucket_days)
            .tags(tags([("Name", bucket_name.as_str())])),
    );
    LogArchive { bucket }
}

/// What a side's monitoring declares, for the dashboard.
pub struct SideMonitoring {
    /// The metric its rejected-packets filter publishes.
    pub rejected_metric: String,
}

/// Declares a side's flow logs, rejected-traffic log group, metric filter and alarms.
pub fn declare_side(
    place: &Binding,
    config: &PeeringConfig,
    side: &SideContext<'_>,
    network: &Network,
    archive: &LogArchive,
) -> SideMonitoring {
    place.add(
        FlowLog::new(side.logical("flow-log-all"))
            .vpc_id(network.vpc.id())
            .traffic_type("ALL")
            .log_destination_type("s3")
            .log_destination(archive.bucket.arn())
            .max_aggregation_interval(60)
            .log_format(S3_LOG_FORMAT)
            .tags(tags([("Name", side.aws_name("flow-log-all").as_str())])),
    );
    let group = rejected_log_group(place, config, side);
    let delivery = delivery_role(place, side, &group);
    place.add(
        FlowLog::new(side.logical("flow-log-rejected"))
            .vpc_id(network.vpc.id())
            .traffic_type("REJECT")
            .log_destination_type("cloud-watch-logs")
            .log_destination(group.arn())
            .deliver_logs_permission_arn(delivery.arn())
            .max_aggregation_interval(60)
            .tags(tags([("Name", side.aws_name("flow-log-rejected").as_str())])),
    );
    let rejected_metric = format!("{}RejectedPackets", capitalised(side.label));
    place.add(
        MetricFilter::new(side.logical("rejected-packets-filter"))
            .log_group_name(group.id())
            .name(side.aws_name("rejected-packets"))
            .pattern(REJECTED_PATTERN)
            .metric_name(&rejected_metric)
            .metric_namespace(METRIC_NAMESPACE)
            .metric_value("$packets"),
    );
    alarm(
        place,
        config,
        side,
        "rejected-packets",
        (METRIC_NAMESPACE, rejected_metric.as_str()),
        None,
        format!(
            "Rejected packets in the {} VPC: traffic the NACLs or security groups refused",
            side.label
        ),
    );
    if let Some(nat) = &network.nat {
        let dimension = ("NatGatewayId", nat.id());
        alarm(
            place,
            config,
            side,
            "nat-packet-drops",
            ("AWS/NATGateway", "PacketsDropCount"),
            Some(dimension),
            format!("Packets the {} NAT gateway dropped", side.label),
        );
    }
    SideMonitoring { rejected_metric }
}

fn capitalised(word: &str) -> String {
    let mut characters = word.chars();
    characters
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + characters.as_str())
        .unwrap_or_default()
}

/// A KMS-encrypted log group for rejected traffic.
fn rejected_log_group(
    place: &Binding,
    config: &PeeringConfig,
    side: &SideContext<'_>,
) -> Resource<LogGroup> {
    let key = service_key(
        place,
        side,
        side.logical("logs-key"),
        "logs-key",
        format!("Encrypts the rejected-traffic logs of the {} VPC", side.label),
        json!({
            "Sid": "CloudWatchLogsEncrypts",
            "Effect": "Allow",
            "Principal": {"Service": "logs.${region}.amazonaws.com"},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:${region}:${account}:log-group:*"}}
        }),
    );
    place.add(
        LogGroup::new(side.logical("rejected-traffic-logs"))
            .name(format!("/cairn/{}/{}", config.stack, side.aws_name("rejected-traffic")))
            .kms_key_id(key.arn())
            .retention_in_days(config.monitoring.log_retention_days)
            .tags(tags([("Name", side.aws_name("rejected-traffic").as_str())])),
    )
}

/// A KMS key (rotated, 7-day deletion window) that its own account administers and that
/// `service_statement` lets a service use; `${account}` and `${region}` in the statement are
/// the side's.
fn service_key(
    place: &Binding,
    side: &SideContext<'_>,
    logical: String,
    aws_name: &str,
    description: String,
    service_statement: Value,
) -> Resource<Key> {
    let policy = json_template(
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "TheAccountAdministersTheKey",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::${account}:root"},
                    "Action": "kms:*",
                    "Resource": "*"
                },
                service_statement
            ]
        }),
        [
            ("account", Input::string(&side.config.account_id)),
            ("region", Input::string(&side.config.region)),
        ],
    );
    place.add(
        Key::new(logical)
            .description(description)
            .enable_key_rotation(true)
            .deletion_window_in_days(7)
            .policy(policy)
            .tags(tags([("Name", side.aws_name(aws_name).as_str())])),
    )
}

/// The role VPC Flow Logs assumes to write into the log group.
fn delivery_role(
    place: &Binding,
    side: &SideContext<'_>,
    group: &Resource<LogGroup>,
) -> Resource<Role> {
    let trust = json_template(
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": "${account}"}}
            }]
        }),
        [("account", Input::string(&side.config.account_id))],
    );
    let name = side.aws_name("flow-logs-delivery");
    let role = place.add(
        Role::new(side.logical("flow-logs-delivery-role"))
            .name(&name)
            .description("Lets VPC Flow Logs write rejected traffic to CloudWatch Logs")
            .assume_role_policy(trust)
            .tags(tags([("Name", name.as_str())])),
    );
    let permissions = json_template(
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
                "Resource": ["${group}", "${group}:*"]
            }]
        }),
        [("group", group.arn().into())],
    );
    place.add(
        RolePolicy::new(side.logical("flow-logs-delivery-policy"))
            .role(role.id())
            .name(side.aws_name("write-rejected-traffic"))
            .policy(permissions),
    );
    role
}

fn alarm(
    place: &Binding,
    config: &PeeringConfig,
    side: &SideContext<'_>,
    what: &str,
    (namespace, metric): (&str, &str),
    dimension: Option<(&str, Output<String>)>,
    description: String,
) {
    let mut declared = MetricAlarm::new(side.logical(&format!("{what}-alarm")))
        .alarm_name(side.aws_name(what))
        .namespace(namespace)
        .metric_name(metric)
        .statistic("Sum")
        .period(300)
        .evaluation_periods(1)
        .threshold(json!(config.monitoring.rejected_packets_threshold))
        .comparison_operator("GreaterThanThreshold")
        .treat_missing_data("notBreaching")
        .alarm_description(description)
        .alarm_actions(config.monitoring.alarm_actions.clone())
        .tags(tags([("Name", side.aws_name(what).as_str())]));
    if let Some((name, value)) = dimension {
        declared = declared.set("dimensions", object([(name, value)]));
    }
    place.add(declared);
}

/// The dashboard in account A covering both VPCs; returns it with its console URL.
pub fn declare_dashboard(
    place: &Binding,
    config: &PeeringConfig,
    sides: [(&SideContext<'_>, &SideMonitoring); 2],
    peering_id: Output<String>,
) -> (Resource<Dashboard>, Input) {
    let widgets: Vec<Value> = sides
        .iter()
        .enumerate()
        .map(|(index, (side, monitoring))| {
            json!({
                "type": "metric",
                "x": (index % 2) * 12, "y": 0, "width": 12, "height": 6,
                "properties": {
                    "title": format!("Rejected packets: {} VPC", side.label),
                    "region": side.config.region,
                    "stat": "Sum",
                    "period": 300,
                    "metrics": [[METRIC_NAMESPACE, monitoring.rejected_metric, {"accountId": side.config.account_id, "region": side.config.region}]]
                }
            })
        })
        .chain(std::iter::once(json!({
            "type": "text",
            "x": 0, "y": 6, "width": 24, "height": 3,
            "properties": {"markdown": format!(
                "## Trading ↔ analytics peering\nConnection `${{peering}}` between {} ({}) and {} ({}).",
                config.trading.cidr, config.trading.account_id, config.analytics.cidr, config.analytics.account_id
            )}
        })))
        .collect();
    let name = format!("{}-{}", config.stack, config.environment_suffix);
    let dashboard =
        place.add(Dashboard::new("peering-dashboard").dashboard_name(&name).dashboard_body(
            json_template(json!({"widgets": widgets}), [("peering", peering_id.into())]),
        ));
    let region = &config.trading.region;
    let url = interpolate([
        Input::string(format!(
            "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name="
        )),
        dashboard.id().into(),
    ]);
    (dashboard, url)
}
