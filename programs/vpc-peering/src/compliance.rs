//! AWS Config in each account: the config role on `service-role/AWS_ConfigRole`, the
//! recorder and delivery channel (optional: an account has at most one, and many
//! organisations already run one), and the rules that watch the peering's compliance.

use cairn::Input;
use cairn::aws::config::{ConfigRule, ConfigurationRecorder, DeliveryChannel, RecorderStatus};
use cairn::aws::iam::{Role, RolePolicy, RolePolicyAttachment};
use cairn::{Binding, Declare, Resource, json_template, tags};
use serde_json::json;

use super::monitoring::LogArchive;
use super::network::Network;
use super::{PeeringConfig, SideContext};

/// The managed policy AWS Config's role needs.
const CONFIG_ROLE_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole";

/// Declares a side's AWS Config role, recorder (if configured) and rules.
pub fn declare(
    place: &Binding,
    config: &PeeringConfig,
    side: &SideContext<'_>,
    network: &Network,
    archive: &LogArchive,
) {
    let role = config_role(place, side, archive);
    let recording =
        config.compliance.create_recorder.then(|| recorder(place, side, archive, &role));
    let ports: Vec<String> = side.ports.iter().map(u16::to_string).collect();
    let required_tags = json!({"tag1Key": "CostCenter", "tag2Key": "Environment"});
    let rules = [
        (
            "peering-dns-resolution",
            "VPC_PEERING_DNS_RESOLUTION_CHECK",
            json_template(json!({"vpcIds": "${vpc}"}), [("vpc", network.vpc.id().into())]),
            vec![],
        ),
        (
            "flow-logs-enabled",
            "VPC_FLOW_LOGS_ENABLED",
            Input::Json(Box::new(Input::Literal(json!({"trafficType": "ALL"})))),
            vec!["AWS::EC2::VPC"],
        ),
        (
            "sg-authorized-ports",
            "VPC_SG_OPEN_ONLY_TO_AUTHORIZED_PORTS",
            Input::Json(Box::new(Input::Literal(json!({"authorizedTcpPorts": ports.join(",")})))),
            vec!["AWS::EC2::SecurityGroup"],
        ),
        (
            "required-tags",
            "REQUIRED_TAGS",
            Input::Json(Box::new(Input::Literal(required_tags))),
            vec![],
        ),
    ];
    for (what, identifier, parameters, scope) in rules {
        let mut rule = ConfigRule::new(side.logical(&format!("config-rule-{what}")))
            .name(side.aws_name(what))
            .source_identifier(identifier)
            .input_parameters(parameters)
            .description(format!("Peering compliance: {identifier}"))
            .tags(tags([("Name", side.aws_name(what).as_str())]));
        if !scope.is_empty() {
            rule = rule.scope_compliance_resource_types(scope);
        }
        if let Some(status) = &recording {
            rule = rule.depends_on(status);
        }
        place.add(rule);
    }
}

/// The role AWS Config records with: the managed policy, plus delivery to the archive.
fn config_role(place: &Binding, side: &SideContext<'_>, archive: &LogArchive) -> Resource<Role> {
    let trust = json_template(
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "config.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": "${account}"}}
            }]
        }),
        [("account", Input::string(&side.config.account_id))],
    );
    let name = side.aws_name("config");
    let role = place.add(
        Role::new(side.logical("config-role"))
            .name(&name)
            .description("AWS Config's role: reads the configuration, delivers to the log archive")
            .assume_role_policy(trust)
            .tags(tags([("Name", name.as_str())])),
    );
    place.add(
        RolePolicyAttachment::new(side.logical("config-role-managed-policy"))
            .role(role.id())
            .policy_arn(CONFIG_ROLE_POLICY),
    );
    let delivery = json_template(
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "${bucket}/config/*",
                 "Condition": {"StringLike": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
                {"Effect": "Allow", "Action": "s3:GetBucketAcl", "Resource": "${bucket}"}
            ]
        }),
        [("bucket", archive.bucket.arn().into())],
    );
    place.add(
        RolePolicy::new(side.logical("config-role-delivery"))
            .role(role.id())
            .name(side.aws_name("config-delivery"))
            .policy(delivery),
    );
    role
}

/// The recorder, its delivery channel and its status (recording on).
fn recorder(
    place: &Binding,
    side: &SideContext<'_>,
    archive: &LogArchive,
    role: &Resource<Role>,
) -> Resource<RecorderStatus> {
    let name = side.aws_name("config-recorder");
    let recorder = place.add(
        ConfigurationRecorder::new(side.logical("config-recorder"))
            .name(&name)
            .role_arn(role.arn())
            .all_supported(true)
            .include_global_resource_types(false),
    );
    let channel = place.add(
        DeliveryChannel::new(side.logical("config-delivery-channel"))
            .name(side.aws_name("config-delivery"))
            .s3_bucket_name(archive.bucket.id())
            .s3_key_prefix("config")
            .depends_on(&recorder),
    );
    place.add(
        RecorderStatus::new(side.logical("config-recorder-status"))
            .name(recorder.id())
            .is_enabled(true)
            .depends_on(&channel),
    )
}
