//! The peering program's declared graph, asserted like CDK assertions: types and counts,
//! tags, CIDRs, routes and names, under the default config and variations of it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use cairn_engine::{Input, Resource, Snapshot, StackSpec};
use serde_json::Value;
use vpc_peering::{self as peering, PeeringConfig};

fn default_config() -> PeeringConfig {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/local.toml");
    cairn_cli::config::load(&path, &[]).expect("the default config loads")
}

fn declared(config: &PeeringConfig) -> StackSpec {
    let stack = cairn::Stack::new(&config.stack);
    peering::declare(&stack, config);
    stack.spec()
}

fn literal(resource: &Resource, property: &str) -> Option<Value> {
    resource.inputs.get(property).and_then(Input::as_literal).cloned()
}

fn literal_str(resource: &Resource, property: &str) -> Option<String> {
    literal(resource, property).and_then(|value| value.as_str().map(str::to_owned))
}

#[test]
fn the_default_config_declares_exactly_the_expected_resources() {
    let spec = declared(&default_config());
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for resource in &spec.resources {
        *counts.entry(resource.schema.type_token).or_default() += 1;
    }
    let per_side = |count: usize| count * 2;
    let expected: BTreeMap<&str, usize> = [
        ("aws:ec2/Vpc", per_side(1)),
        ("aws:ec2/Subnet", per_side(3)),
        ("aws:ec2/RouteTable", per_side(3)),
        ("aws:ec2/RouteTableAssociation", per_side(3)),
        ("aws:ec2/VpcEndpoint", per_side(2)),
        ("aws:ec2/SecurityGroup", per_side(1)),
        ("aws:ec2/SecurityGroupIngressRule", per_side(6)),
        ("aws:ec2/SecurityGroupEgressRule", per_side(2)),
        ("aws:ec2/NetworkAcl", per_side(1)),
        ("aws:ec2/NetworkAclEntry", per_side(20)),
        ("aws:ec2/SubnetNetworkAclAssociation", per_side(3)),
        ("aws:ec2/Route", per_side(3)),
        ("aws:ec2/VpcPeeringConnection", 1),
        ("aws:ec2/VpcPeeringConnectionAccepter", 1),
        ("aws:ec2/VpcPeeringConnectionOptions", per_side(1)),
        ("aws:ec2/FlowLog", per_side(2)),
        ("aws:secretsmanager/SecretValue", 1),
        ("aws:iam/Role", 1 + per_side(2)),
        ("aws:iam/RolePolicy", 1 + per_side(2)),
        ("aws:iam/RolePolicyAttachment", per_side(1)),
        ("aws:kms/Key", 1 + per_side(1)),
        ("aws:kms/Alias", 1),
        ("aws:s3/Bucket", 1),
        ("aws:logs/LogGroup", per_side(1)),
        ("aws:logs/MetricFilter", per_side(1)),
        ("aws:cloudwatch/MetricAlarm", per_side(1)),
        ("aws:cloudwatch/Dashboard", 1),
        ("aws:config/ConfigurationRecorder", per_side(1)),
        ("aws:config/DeliveryChannel", per_side(1)),
        ("aws:config/RecorderStatus", per_side(1)),
        ("aws:config/ConfigRule", per_side(4)),
    ]
    .into();
    assert_eq!(counts, expected);
    assert_eq!(
        spec.outputs.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "AnalyticsPrivateRouteTable1Id",
            "AnalyticsPrivateRouteTable2Id",
            "AnalyticsPrivateRouteTable3Id",
            "AnalyticsPrivateRouteTableIds",
            "AnalyticsVpcId",
            "DashboardUrl",
            "FlowLogBucket",
            "PeeringConnectionId",
            "PeeringStatus",
            "TradingPrivateRouteTable1Id",
            "TradingPrivateRouteTable2Id",
            "TradingPrivateRouteTable3Id",
            "TradingPrivateRouteTableIds",
            "TradingVpcId",
        ]
    );
}

#[test]
fn the_optional_parts_follow_the_config() {
    let mut config = default_config();
    config.trading.nat_gateway = true;
    config.trading.public_subnet = Some("10.0.192.0/24".into());
    config.compliance.create_recorder = false;
    let spec = declared(&config);
    let count =
        |token: &str| spec.resources.iter().filter(|r| r.schema.type_token == token).count();
    assert_eq!(count("aws:ec2/NatGateway"), 1, "at most one NAT, only where asked");
    assert_eq!(count("aws:ec2/InternetGateway"), 1);
    assert_eq!(count("aws:cloudwatch/MetricAlarm"), 3, "a NAT packet-drop alarm joins");
    assert_eq!(count("aws:config/ConfigurationRecorder"), 0);
    assert_eq!(count("aws:config/ConfigRule"), 8, "the rules stay");
}

#[test]
fn every_taggable_resource_has_both_mandatory_tags() {
    let config = default_config();
    for resource in declared(&config).resources.iter().filter(|r| r.schema.taggable) {
        let tags = literal(resource, "tags").unwrap_or(Value::Null);
        for key in peering::REQUIRED_TAGS {
            assert_eq!(
                tags.get(key),
                config.tags.get(key).map(|v| Value::String(v.clone())).as_ref(),
                "{} lacks {key}",
                resource.name
            );
        }
    }
}

#[test]
fn no_security_group_rule_or_nacl_allow_entry_is_open_to_the_world() {
    for resource in &declared(&default_config()).resources {
        let token = resource.schema.type_token;
        let cidr = match token {
            "aws:ec2/SecurityGroupIngressRule" | "aws:ec2/SecurityGroupEgressRule" => {
                literal_str(resource, "cidr_ipv4")
            }
            "aws:ec2/NetworkAclEntry"
                if literal_str(resource, "rule_action").as_deref() == Some("allow") =>
            {
                literal_str(resource, "cidr_block")
            }
            _ => continue,
        };
        let cidr = cidr.unwrap_or_else(|| panic!("{} has a literal CIDR", resource.name));
        assert!(!cidr.ends_with("/0"), "{} allows {cidr}", resource.name);
    }
}

#[test]
fn every_route_through_the_peering_targets_exactly_the_peer_cidr() {
    let config = default_config();
    let spec = declared(&config);
    let peering_routes: Vec<&Resource> = spec
        .resources
        .iter()
        .filter(|r| {
            r.schema.type_token == "aws:ec2/Route"
                && r.inputs.contains_key("vpc_peering_connection_id")
        })
        .collect();
    assert_eq!(peering_routes.len(), 6, "one per private route table of both VPCs");
    for route in peering_routes {
        let expected =
            if route.binding == "trading" { &config.analytics.cidr } else { &config.trading.cidr };
        assert_eq!(
            literal_str(route, "destination_cidr_block").as_ref(),
            Some(expected),
            "{}",
            route.name
        );
    }
}

/// Every name the program gives AWS: name properties and `Name` tags.
fn aws_names(spec: &StackSpec) -> Vec<(String, String)> {
    let placeholder = |_: &cairn_engine::OutputRef| Some(Value::String(String::new()));
    let mut names = Vec::new();
    for resource in &spec.resources {
        for property in resource.schema.name_properties() {
            if let Some(input) = resource.inputs.get(property) {
                let value = input.resolve(&placeholder);
                names.push((resource.name.clone(), value.as_str().unwrap_or_default().to_owned()));
            }
        }
        if let Some(name) = literal(resource, "tags").and_then(|tags| tags.get("Name").cloned()) {
            names.push((resource.name.clone(), name.as_str().unwrap_or_default().to_owned()));
        }
    }
    names
}

#[test]
fn every_name_has_the_suffix_and_a_new_suffix_renames_everything() {
    let mut config = default_config();
    let names = aws_names(&declared(&config));
    assert!(names.len() > 40, "names are checked: {}", names.len());
    for (resource, name) in &names {
        assert!(name.contains(&config.environment_suffix), "{resource}: {name}");
    }
    config.environment_suffix = "q9z8".into();
    let renamed = aws_names(&declared(&config));
    assert_eq!(renamed.len(), names.len());
    for ((resource, before), (_, after)) in names.iter().zip(&renamed) {
        assert_ne!(before, after, "{resource} kept its name");
        assert!(after.contains("q9z8"), "{resource}: {after}");
    }
}

#[test]
fn the_default_config_passes_every_policy_rule() {
    let spec = declared(&default_config());
    assert_eq!(spec.policies.len(), cairn::policy::AWS_PACK.len());
    let plan = cairn_engine::plan(&spec, &Snapshot::default()).expect("the plan passes every rule");
    assert!(plan.policy_findings.is_empty(), "{:#?}", plan.policy_findings);
}

#[test]
fn the_accepter_external_id_stays_secret_in_the_plan() {
    let spec = declared(&default_config());
    let plan = cairn_engine::plan(&spec, &Snapshot::default()).expect("plan");
    let text = cairn_engine::render_plan(&plan, cairn_engine::RenderOptions::default());
    assert!(text.contains("<= aws:secretsmanager/SecretValue \"accepter-external-id\""), "{text}");
    let role = plan.steps.iter().find(|step| step.name == "accepter-role").expect("role");
    assert!(cairn_engine::value::is_unknown(&role.planned["assume_role_policy"]), "read at apply");
}
