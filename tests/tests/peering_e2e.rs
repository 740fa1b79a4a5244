//! The customer's program end to end against the emulator, through the same command-line
//! code the binaries run: apply into two accounts, read AWS back through the SDK (not our
//! state) and check every one of the twelve points, check the outputs file against AWS, plan
//! again (no changes), refresh (no drift), change things by hand and see refresh find them and
//! apply undo them, destroy, and check that nothing carrying our ownership tag is left.
//!
//! moto gaps met here (each keeps the real SDK call path):
//! - moto never evaluates AWS Config rules (the compliance APIs answer HTTP 500), so the test
//!   proves the rules exist as declared, not what they find.
//! - moto does not enforce IAM trust policies, so the accepter role's trust is checked as a
//!   document (principal and external-id condition), not by a refused AssumeRole.
//! - moto writes no flow-log objects, so delivery is checked as configuration: destination,
//!   traffic type, aggregation interval, bucket encryption and delivery policy.

use std::collections::BTreeMap;
use std::path::Path;

use aws_sdk_ec2::types::AttributeBooleanValue;
use cairn_aws::Clients;
use cairn_tests::peering::{Deployment, SUFFIX, filter, tag_map};
use serde_json::Value;

fn assert_mandatory_tags(what: &str, tags: &BTreeMap<String, String>) {
    assert_eq!(
        tags.get("CostCenter").map(String::as_str),
        Some("cc-4410-trading"),
        "{what}: {tags:?}"
    );
    assert_eq!(tags.get("Environment").map(String::as_str), Some("sandbox"), "{what}: {tags:?}");
}

/// What the checks learn about one side's VPC from AWS.
struct SideFacts {
    vpc_id: String,
    route_tables: Vec<String>,
}

/// Points 2, 3, 5 (attributes), 6, 9 and 11 for one side, read through its own clients.
async fn check_side(
    clients: &Clients,
    vpc_cidr: &str,
    peer_cidr: &str,
    peer_subnets: &[&str],
    pcx: &str,
) -> SideFacts {
    let ec2 = &clients.ec2;
    let vpcs = ec2.describe_vpcs().filters(filter("cidr", vpc_cidr)).send().await.expect("vpcs");
    let vpc = vpcs.vpcs().iter().find(|vpc| !vpc.is_default().unwrap_or(false)).expect("our VPC");
    let vpc_id = vpc.vpc_id().expect("id").to_owned();
    assert_mandatory_tags("vpc", &tag_map(vpc.tags()));
    for attribute in [
        aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport,
        aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames,
    ] {
        let found = ec2
            .describe_vpc_attribute()
            .vpc_id(&vpc_id)
            .attribute(attribute.clone())
            .send()
            .await
            .expect("attribute");
        let on = found
            .enable_dns_support()
            .or(found.enable_dns_hostnames())
            .and_then(|flag| flag.value());
        assert_eq!(on, Some(true), "point 5: {attribute} on");
    }

    // Point 2: every private route table routes the peer's CIDR, and only it, to the peering.
    let tables = ec2
        .describe_route_tables()
        .filters(filter("vpc-id", &vpc_id))
        .send()
        .await
        .expect("tables");
    let private: Vec<_> = tables
        .route_tables()
        .iter()
        .filter(|table| {
            !table.associations().iter().any(|association| association.main().unwrap_or(false))
        })
        .collect();
    assert_eq!(private.len(), 3, "three private route tables");
    for table in &private {
        assert_mandatory_tags("route table", &tag_map(table.tags()));
        let to_peering: Vec<_> = table
            .routes()
            .iter()
            .filter(|route| route.vpc_peering_connection_id() == Some(pcx))
            .collect();
        assert_eq!(to_peering.len(), 1, "point 2: one route to the peering");
        assert_eq!(
            to_peering[0].destination_cidr_block(),
            Some(peer_cidr),
            "point 2: the peer CIDR, nothing wider"
        );
        let endpoint_routes = table
            .routes()
            .iter()
            .filter(|route| route.destination_prefix_list_id().is_some())
            .count();
        assert_eq!(endpoint_routes, 2, "point 9: S3 and DynamoDB endpoint routes");
    }
    let route_tables: Vec<String> =
        private.iter().filter_map(|table| table.route_table_id().map(str::to_owned)).collect();

    // Point 9: gateway endpoints for S3 and DynamoDB on the private route tables.
    let endpoints = ec2
        .describe_vpc_endpoints()
        .filters(filter("vpc-id", &vpc_id))
        .send()
        .await
        .expect("endpoints");
    let mut services: Vec<&str> = endpoints
        .vpc_endpoints()
        .iter()
        .filter(|endpoint| {
            endpoint.state().is_some_and(|state| state.as_str().eq_ignore_ascii_case("available"))
        })
        .map(|endpoint| {
            let mut tables = endpoint.route_table_ids().to_vec();
            tables.sort();
            let mut expected = route_tables.clone();
            expected.sort();
            assert_eq!(tables, expected, "point 9: on every private route table");
            assert_mandatory_tags("endpoint", &tag_map(endpoint.tags()));
            endpoint.service_name().unwrap_or_default().rsplit('.').next().unwrap_or_default()
        })
        .collect();
    services.sort();
    assert_eq!(services, ["dynamodb", "s3"], "point 9");

    // Point 3: the application group opens 443/5432 only, only from the peer's subnets, and
    // sends only to the peer; no 0.0.0.0/0 anywhere.
    let groups = ec2
        .describe_security_groups()
        .filters(filter("vpc-id", &vpc_id))
        .send()
        .await
        .expect("groups");
    let group = groups
        .security_groups()
        .iter()
        .find(|group| group.group_name().is_some_and(|name| name.contains(SUFFIX)))
        .expect("app group");
    assert_mandatory_tags("security group", &tag_map(group.tags()));
    let rules = ec2
        .describe_security_group_rules()
        .filters(filter("group-id", group.group_id().expect("id")))
        .send()
        .await
        .expect("rules");
    let (mut ingress, mut egress) = (Vec::new(), Vec::new());
    for rule in rules.security_group_rules() {
        let cidr = rule.cidr_ipv4().unwrap_or_default().to_owned();
        assert_ne!(cidr, "0.0.0.0/0", "point 3: nothing open to the world");
        assert_eq!(rule.ip_protocol(), Some("tcp"), "point 3: tcp only");
        assert_eq!(rule.from_port(), rule.to_port(), "point 3: single ports");
        let entry = (rule.from_port().unwrap_or_default(), cidr);
        if rule.is_egress().unwrap_or(false) { egress.push(entry) } else { ingress.push(entry) }
    }
    ingress.sort();
    egress.sort();
    let mut expected_ingress: Vec<(i32, String)> = [443, 5432]
        .iter()
        .flat_map(|port| peer_subnets.iter().map(move |cidr| (*port, (*cidr).to_owned())))
        .collect();
    expected_ingress.sort();
    assert_eq!(ingress, expected_ingress, "point 3: ingress");
    assert_eq!(
        egress,
        [(443, peer_cidr.to_owned()), (5432, peer_cidr.to_owned())],
        "point 3: restricted egress"
    );

    // Point 6: the private subnets' NACL allows only 443/5432 and return traffic from the
    // peer's private subnets, and denies the rest explicitly.
    let acls =
        ec2.describe_network_acls().filters(filter("vpc-id", &vpc_id)).send().await.expect("acls");
    let acl = acls
        .network_acls()
        .iter()
        .find(|acl| !acl.is_default().unwrap_or(false))
        .expect("custom NACL");
    assert_eq!(acl.associations().len(), 3, "point 6: on the three private subnets");
    assert_mandatory_tags("nacl", &tag_map(acl.tags()));
    for entry in acl.entries() {
        let cidr = entry.cidr_block().unwrap_or_default();
        let action =
            entry.rule_action().map(|action| action.as_str().to_owned()).unwrap_or_default();
        if action == "allow" {
            assert!(
                peer_subnets.contains(&cidr),
                "point 6: allows only the peer's subnets, not {cidr}"
            );
            let range = entry
                .port_range()
                .map(|range| (range.from().unwrap_or(0), range.to().unwrap_or(0)));
            assert!(
                matches!(range, Some((443, 443) | (5432, 5432) | (1024, 65535))),
                "point 6: port range {range:?}"
            );
        } else if entry.rule_number() == Some(32000) {
            assert_eq!(cidr, "0.0.0.0/0", "point 6: the explicit deny covers everything else");
        }
    }
    let denies = acl.entries().iter().filter(|entry| entry.rule_number() == Some(32000)).count();
    assert_eq!(denies, 2, "point 6: an explicit deny each way");

    SideFacts { vpc_id, route_tables }
}

/// Point 4: a flow log of ALL traffic, 60 s aggregation, into the encrypted bucket.
async fn check_flow_logs(clients: &Clients, vpc_id: &str, bucket: &str) {
    let logs = clients
        .ec2
        .describe_flow_logs()
        .filter(filter("resource-id", vpc_id))
        .send()
        .await
        .expect("flow logs");
    let all = logs
        .flow_logs()
        .iter()
        .find(|log| log.traffic_type().map(|kind| kind.as_str()) == Some("ALL"))
        .expect("point 4: a flow log of ALL traffic");
    assert_eq!(
        all.log_destination(),
        Some(format!("arn:aws:s3:::{bucket}").as_str()),
        "point 4: to the bucket"
    );
    assert_eq!(all.max_aggregation_interval(), Some(60), "point 4: 60 s aggregation");
    assert_mandatory_tags("flow log", &tag_map(all.tags()));
}

#[test]
fn the_peering_program_applies_checks_out_replans_to_nothing_and_destroys_cleanly() {
    deploy_check_destroy("us-east-1");
}

#[test]
fn cross_region_peering_with_the_analytics_vpc_in_us_east_2() {
    deploy_check_destroy("us-east-2");
}

fn deploy_check_destroy(analytics_region: &str) {
    let deployment = Deployment::new(analytics_region);
    let external_id = deployment.seed_secret();

    let applied = deployment.apply();
    assert!(!applied.contains(&external_id), "the external id never appears in the output");
    assert!(applied.contains("Apply complete!"), "{applied}");
    check_aws(&deployment, &external_id);
    check_state_keeps_the_secret(&deployment.dir.path().join("state"), &external_id);

    let again = deployment.plan();
    assert!(again.contains("No changes."), "a second plan changes nothing: {again}");
    let refreshed = deployment.refresh();
    assert!(refreshed.contains("No drift: 143 in sync."), "AWS is as recorded: {refreshed}");
    check_drift_is_found_and_undone(&deployment);
    check_hand_made_rules_are_removed(&deployment);

    let destroyed = deployment.destroy();
    assert!(destroyed.contains("Destroy complete!"), "{destroyed}");
    check_nothing_left(&deployment);
}

/// Changes made by hand in account A (DNS hostnames turned off on the trading VPC, its S3
/// gateway endpoint deleted): refresh finds and records them, the next plan undoes them, and
/// after apply AWS is as the program says again.
fn check_drift_is_found_and_undone(deployment: &Deployment) {
    let trading = deployment.clients(&deployment.trading);
    let vpc = deployment.outputs().get("TradingVpcId").expect("output").clone();
    deployment.runtime.block_on(async {
        let off = AttributeBooleanValue::builder().value(false).build();
        let changed = trading.ec2.modify_vpc_attribute().vpc_id(&vpc).enable_dns_hostnames(off);
        changed.send().await.expect("DNS hostnames turned off by hand");
        let found = trading.ec2.describe_vpc_endpoints().send().await.expect("endpoints");
        let s3 = found
            .vpc_endpoints()
            .iter()
            .find(|e| {
                e.vpc_id() == Some(vpc.as_str())
                    && e.service_name().is_some_and(|s| s.ends_with(".s3"))
            })
            .and_then(|endpoint| endpoint.vpc_endpoint_id())
            .expect("the trading VPC's S3 endpoint")
            .to_owned();
        let deleted = trading.ec2.delete_vpc_endpoints().vpc_endpoint_ids(s3).send().await;
        deleted.expect("S3 endpoint deleted by hand");
    });

    let found = deployment.refresh();
    assert!(found.contains("~ enable_dns_hostnames = true -> false"), "{found}");
    assert!(found.contains("s3-endpoint\" in trading was deleted"), "{found}");
    assert!(found.contains("Drift: 1 changed, 1 deleted, 141 in sync."), "{found}");
    let undo = deployment.plan();
    assert!(undo.contains("Plan: 1 to add, 1 to change, 0 to destroy."), "{undo}");
    deployment.apply();
    let refreshed = deployment.refresh();
    assert!(refreshed.contains("No drift: 143 in sync."), "undone: {refreshed}");
}

/// An SSH rule open to the world added by hand to the trading group, an SSH allow entry open
/// to the world to its network ACL, and a route to 192.168.0.0/16 through the peering to one
/// of its route tables: refresh shows all three (calling the open ones policy violations),
/// apply removes them, and what cairn declares stays.
fn check_hand_made_rules_are_removed(deployment: &Deployment) {
    let trading = deployment.clients(&deployment.trading);
    let outputs = deployment.outputs();
    let vpc = outputs.get("TradingVpcId").expect("output").clone();
    let pcx = outputs.get("PeeringConnectionId").expect("output").clone();
    let table = deployment.runtime.block_on(async {
        let tables = trading.ec2.describe_route_tables().filters(filter("vpc-id", &vpc));
        let tables = tables.send().await.expect("route tables");
        let ours = tables.route_tables().iter().find(|table| {
            table.tags().iter().any(|tag| tag.key() == Some(cairn_aws::OWNERSHIP_TAG))
        });
        let table = ours.and_then(|table| table.route_table_id()).expect("a private table");
        let added = trading
            .ec2
            .create_route()
            .route_table_id(table)
            .destination_cidr_block("192.168.0.0/16")
            .vpc_peering_connection_id(&pcx);
        added.send().await.expect("a route added by hand");
        table.to_owned()
    });
    let routes_before = deployment.runtime.block_on(routes_of(&trading, &table));
    let acl = deployment.runtime.block_on(async {
        let acls = trading.ec2.describe_network_acls().filters(filter("vpc-id", &vpc));
        let acls = acls.send().await.expect("acls");
        let ours = acls.network_acls().iter().find(|acl| acl.is_default() != Some(true));
        let acl = ours.and_then(|acl| acl.network_acl_id()).expect("the private ACL").to_owned();
        let added = trading
            .ec2
            .create_network_acl_entry()
            .network_acl_id(&acl)
            .rule_number(90)
            .egress(false)
            .protocol("6")
            .rule_action(aws_sdk_ec2::types::RuleAction::Allow)
            .cidr_block("0.0.0.0/0")
            .port_range(aws_sdk_ec2::types::PortRange::builder().from(22).to(22).build());
        added.send().await.expect("an open SSH entry added by hand");
        acl
    });
    let entries_before = deployment.runtime.block_on(entries_of(&trading, &acl));
    let group = deployment.runtime.block_on(async {
        let groups = trading.ec2.describe_security_groups().send().await.expect("groups");
        let ours = groups
            .security_groups()
            .iter()
            .find(|group| group.group_name().is_some_and(|name| name.contains(SUFFIX)))
            .and_then(|group| group.group_id())
            .expect("the trading app group")
            .to_owned();
        let open = aws_sdk_ec2::types::IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(22)
            .to_port(22)
            .ip_ranges(aws_sdk_ec2::types::IpRange::builder().cidr_ip("0.0.0.0/0").build())
            .build();
        let added =
            trading.ec2.authorize_security_group_ingress().group_id(&ours).ip_permissions(open);
        added.send().await.expect("an open SSH rule added by hand");
        ours
    });
    let declared = deployment.runtime.block_on(rules_of(&trading, &group));

    let found = deployment.refresh();
    assert!(found.contains("unmanaged_rules") && found.contains("unmanaged_entries"), "{found}");
    assert!(found.contains("unmanaged_routes"), "{found}");
    assert!(found.contains("Drift: 3 changed, 0 deleted, 140 in sync."), "{found}");
    assert!(found.contains("policy no-open-cidr: security group `trading-app-sg`"), "{found}");
    assert!(found.contains("(tcp 22-22 from 0.0.0.0/0)"), "{found}");
    assert!(found.contains("policy no-open-cidr: network ACL `trading-private-nacl`"), "{found}");
    assert!(found.contains("ingress rule 90 (6 22-22 from 0.0.0.0/0)"), "{found}");
    let undo = deployment.plan();
    assert!(undo.contains("Plan: 0 to add, 3 to change, 0 to destroy."), "{undo}");
    deployment.apply();

    let after = deployment.runtime.block_on(rules_of(&trading, &group));
    assert_eq!(after.len(), declared.len() - 1, "the hand-made rule is gone: {after:?}");
    assert!(!after.iter().any(|rule| rule.contains("0.0.0.0/0 22")), "{after:?}");
    let entries = deployment.runtime.block_on(entries_of(&trading, &acl));
    assert_eq!(entries.len(), entries_before.len() - 1, "the hand-made entry is gone");
    assert!(!entries.contains(&(90, false)), "{entries:?}");
    let routes = deployment.runtime.block_on(routes_of(&trading, &table));
    assert_eq!(routes.len(), routes_before.len() - 1, "the hand-made route is gone: {routes:?}");
    assert!(!routes.iter().any(|route| route == "192.168.0.0/16"), "{routes:?}");
    let refreshed = deployment.refresh();
    assert!(refreshed.contains("No drift: 143 in sync."), "{refreshed}");
}

/// The destinations of the routes of `table`.
async fn routes_of(clients: &Clients, table: &str) -> Vec<String> {
    let found = clients.ec2.describe_route_tables().route_table_ids(table).send().await;
    let found = found.expect("route table");
    let routes = found.route_tables().iter().flat_map(|table| table.routes());
    let destinations = routes.map(|route| {
        route.destination_cidr_block().or(route.destination_prefix_list_id()).unwrap_or_default()
    });
    destinations.map(str::to_owned).collect()
}

/// The entries of network ACL `acl` as (rule number, egress).
async fn entries_of(clients: &Clients, acl: &str) -> Vec<(i32, bool)> {
    let found = clients.ec2.describe_network_acls().network_acl_ids(acl).send().await;
    let found = found.expect("acl");
    let entries = found.network_acls().iter().flat_map(|acl| acl.entries());
    entries.map(|entry| (entry.rule_number().unwrap_or(0), entry.egress() == Some(true))).collect()
}

/// The rules of `group` as `direction cidr port` lines.
async fn rules_of(clients: &Clients, group: &str) -> Vec<String> {
    let found = clients
        .ec2
        .describe_security_group_rules()
        .filters(filter("group-id", group))
        .send()
        .await
        .expect("rules");
    found
        .security_group_rules()
        .iter()
        .map(|rule| {
            let direction = if rule.is_egress() == Some(true) { "egress" } else { "ingress" };
            let cidr = rule.cidr_ipv4().unwrap_or_default();
            format!("{direction} {cidr} {}", rule.from_port().unwrap_or(-1))
        })
        .collect()
}

fn check_aws(deployment: &Deployment, external_id: &str) {
    let trading = deployment.clients(&deployment.trading);
    let analytics = deployment.clients(&deployment.analytics);
    let outputs = deployment.outputs();
    let pcx = outputs.get("PeeringConnectionId").expect("output").clone();
    let bucket = outputs.get("FlowLogBucket").expect("output").clone();
    deployment.runtime.block_on(async {
        // Point 1: requested in A, accepted in B, active seen from both sides.
        for (clients, side) in [(&trading, "requester"), (&analytics, "accepter")] {
            let found = clients
                .ec2
                .describe_vpc_peering_connections()
                .vpc_peering_connection_ids(&pcx)
                .send()
                .await
                .expect("peering");
            let connection = found.vpc_peering_connections().first().expect("point 1: visible");
            let status = connection
                .status()
                .and_then(|status| status.code())
                .map(|code| code.as_str().to_owned());
            assert_eq!(status.as_deref(), Some("active"), "point 1: active from the {side}");
            assert_eq!(
                connection.requester_vpc_info().and_then(|info| info.owner_id()),
                Some(deployment.trading.account_id.as_str())
            );
            assert_eq!(
                connection.accepter_vpc_info().and_then(|info| info.owner_id()),
                Some(deployment.analytics.account_id.as_str())
            );
            // Point 5: DNS resolution from the remote VPC, both directions.
            for info in [connection.requester_vpc_info(), connection.accepter_vpc_info()] {
                let dns = info
                    .and_then(|info| info.peering_options())
                    .and_then(|options| options.allow_dns_resolution_from_remote_vpc());
                assert_eq!(dns, Some(true), "point 5 seen from the {side}");
            }
        }
        let a = check_side(
            &trading,
            "10.0.0.0/16",
            "10.1.0.0/16",
            &["10.1.0.0/19", "10.1.32.0/19", "10.1.64.0/19"],
            &pcx,
        )
        .await;
        let b = check_side(
            &analytics,
            "10.1.0.0/16",
            "10.0.0.0/16",
            &["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"],
            &pcx,
        )
        .await;
        check_flow_logs(&trading, &a.vpc_id, &bucket).await;
        check_flow_logs(&analytics, &b.vpc_id, &bucket).await;
        check_bucket(&trading, &bucket).await;
        check_accepter_role(&analytics, deployment, external_id).await;
        check_alarms_and_dashboard(&trading, &analytics).await;
        check_config(&trading).await;
        check_config(&analytics).await;
        check_outputs(&outputs, &a, &b, &deployment.trading.region);
    });
}

/// Point 4 (the bucket): KMS encryption, public access blocked, the delivery policy.
async fn check_bucket(clients: &Clients, bucket: &str) {
    let encryption =
        clients.s3.get_bucket_encryption().bucket(bucket).send().await.expect("encryption");
    let rule = encryption
        .server_side_encryption_configuration()
        .and_then(|config| config.rules().first())
        .and_then(|rule| rule.apply_server_side_encryption_by_default())
        .expect("default encryption");
    assert_eq!(rule.sse_algorithm().as_str(), "aws:kms", "point 4: KMS-encrypted");
    assert!(
        rule.kms_master_key_id().is_some_and(|key| key.starts_with("arn:aws:kms:")),
        "point 4: our key"
    );
    let block = clients
        .s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .expect("public access block");
    let config = block.public_access_block_configuration().expect("configuration");
    assert_eq!(config.block_public_acls(), Some(true));
    assert_eq!(config.restrict_public_buckets(), Some(true));
    let policy = clients.s3.get_bucket_policy().bucket(bucket).send().await.expect("policy");
    assert!(
        policy.policy().unwrap_or_default().contains("delivery.logs.amazonaws.com"),
        "point 4: delivery policy"
    );
    let tags = clients.s3.get_bucket_tagging().bucket(bucket).send().await.expect("tags");
    let tags: BTreeMap<String, String> =
        tags.tag_set().iter().map(|tag| (tag.key().to_owned(), tag.value().to_owned())).collect();
    assert_mandatory_tags("bucket", &tags);
}

/// Point 7: the accepter role in B, trusted by A with the external id, least privilege.
async fn check_accepter_role(clients: &Clients, deployment: &Deployment, external_id: &str) {
    let name = format!("peering-accepter-{SUFFIX}");
    let role = clients.iam.get_role().role_name(&name).send().await.expect("accepter role");
    let role = role.role().expect("role");
    let trust = role.assume_role_policy_document().unwrap_or_default();
    let trust: Value = serde_json::from_str(&decode(trust)).expect("trust policy JSON");
    let statement = &trust["Statement"][0];
    assert_eq!(
        statement["Principal"]["AWS"],
        format!("arn:aws:iam::{}:root", deployment.trading.account_id),
        "point 7: trusted by A"
    );
    assert_eq!(
        statement["Condition"]["StringEquals"]["sts:ExternalId"], external_id,
        "point 7: with the external id"
    );
    let tags: BTreeMap<String, String> =
        role.tags().iter().map(|tag| (tag.key().to_owned(), tag.value().to_owned())).collect();
    assert_mandatory_tags("role", &tags);
    let policies =
        clients.iam.list_role_policies().role_name(&name).send().await.expect("inline policies");
    assert_eq!(policies.policy_names().len(), 1);
    let policy = clients
        .iam
        .get_role_policy()
        .role_name(&name)
        .policy_name(&policies.policy_names()[0])
        .send()
        .await
        .expect("policy");
    let document: Value =
        serde_json::from_str(&decode(policy.policy_document())).expect("policy JSON");
    let mut actions: Vec<String> = Vec::new();
    for statement in document["Statement"].as_array().expect("statements") {
        match &statement["Action"] {
            Value::String(action) => actions.push(action.clone()),
            Value::Array(list) => {
                actions.extend(list.iter().filter_map(|action| action.as_str().map(str::to_owned)))
            }
            _ => {}
        }
    }
    actions.sort();
    actions.dedup();
    assert_eq!(
        actions,
        [
            "ec2:AcceptVpcPeeringConnection",
            "ec2:DescribeVpcPeeringConnections",
            "ec2:ModifyVpcPeeringConnectionOptions"
        ],
        "point 7: only the peering actions"
    );
}

/// IAM documents may come back URL-encoded.
fn decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match (bytes[index], bytes.get(index + 1..index + 3)) {
            (b'%', Some(hex)) => {
                let value =
                    std::str::from_utf8(hex).ok().and_then(|hex| u8::from_str_radix(hex, 16).ok());
                out.push(value.unwrap_or(b'%'));
                index += if value.is_some() { 3 } else { 1 };
            }
            (b'+', _) => {
                out.push(b' ');
                index += 1;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Point 8: rejected-packet alarms fed by flow-log metric filters, and one dashboard.
async fn check_alarms_and_dashboard(trading: &Clients, analytics: &Clients) {
    for (clients, side) in [(trading, "trading"), (analytics, "analytics")] {
        let name = format!("{side}-rejected-packets-{SUFFIX}");
        let alarms =
            clients.cloudwatch.describe_alarms().alarm_names(&name).send().await.expect("alarms");
        let alarm = alarms.metric_alarms().first().expect("point 8: the alarm exists");
        assert_eq!(alarm.namespace(), Some("Cairn/VpcPeering"));
        let filters = clients.logs.describe_metric_filters().send().await.expect("filters");
        let metric = filters
            .metric_filters()
            .iter()
            .flat_map(|filter| filter.metric_transformations())
            .find(|transformation| Some(transformation.metric_name()) == alarm.metric_name())
            .expect("point 8: a metric filter feeds the alarm");
        assert_eq!(metric.metric_namespace(), "Cairn/VpcPeering");
    }
    let dashboard = trading
        .cloudwatch
        .get_dashboard()
        .dashboard_name(format!("vpc-peering-{SUFFIX}"))
        .send()
        .await
        .expect("dashboard");
    let body: Value = serde_json::from_str(dashboard.dashboard_body().unwrap_or_default())
        .expect("dashboard JSON");
    let metrics = body["widgets"]
        .as_array()
        .expect("widgets")
        .iter()
        .filter(|widget| widget["type"] == "metric")
        .count();
    assert_eq!(metrics, 2, "point 8: the dashboard covers both VPCs");
}

/// Point 10: the recorder, the config role on AWS_ConfigRole and the four rules.
async fn check_config(clients: &Clients) {
    let rules = clients.config.describe_config_rules().send().await.expect("rules");
    let mut identifiers: Vec<&str> = rules
        .config_rules()
        .iter()
        .filter(|rule| rule.config_rule_name().is_some_and(|name| name.contains(SUFFIX)))
        .filter_map(|rule| rule.source().and_then(|source| source.source_identifier()))
        .collect();
    identifiers.sort();
    assert_eq!(
        identifiers,
        [
            "REQUIRED_TAGS",
            "VPC_FLOW_LOGS_ENABLED",
            "VPC_PEERING_DNS_RESOLUTION_CHECK",
            "VPC_SG_OPEN_ONLY_TO_AUTHORIZED_PORTS"
        ],
        "point 10"
    );
    let recorders =
        clients.config.describe_configuration_recorders().send().await.expect("recorders");
    let recorder = recorders.configuration_recorders().first().expect("point 10: a recorder");
    let role =
        recorder.role_arn().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_owned();
    let attached =
        clients.iam.list_attached_role_policies().role_name(&role).send().await.expect("attached");
    assert!(
        attached.attached_policies().iter().any(|policy| policy.policy_arn()
            == Some("arn:aws:iam::aws:policy/service-role/AWS_ConfigRole")),
        "point 10: the config role has AWS_ConfigRole"
    );
}

/// Point 12: every output matches AWS.
fn check_outputs(
    outputs: &BTreeMap<String, String>,
    a: &SideFacts,
    b: &SideFacts,
    trading_region: &str,
) {
    assert_eq!(outputs.get("PeeringStatus").map(String::as_str), Some("active"));
    assert_eq!(outputs.get("TradingVpcId"), Some(&a.vpc_id));
    assert_eq!(outputs.get("AnalyticsVpcId"), Some(&b.vpc_id));
    for (label, facts) in [("Trading", a), ("Analytics", b)] {
        let mut listed: Vec<String> =
            (1..=3).map(|n| outputs[&format!("{label}PrivateRouteTable{n}Id")].clone()).collect();
        let joined = outputs[&format!("{label}PrivateRouteTableIds")].clone();
        assert_eq!(joined, listed.join(","));
        listed.sort();
        let mut actual = facts.route_tables.clone();
        actual.sort();
        assert_eq!(listed, actual, "point 12: {label} route tables");
    }
    let url = &outputs["DashboardUrl"];
    assert!(url.starts_with(&format!("https://{trading_region}.console.aws.amazon.com/cloudwatch/home?region={trading_region}#dashboards:name=vpc-peering-{SUFFIX}")), "{url}");
}

/// The external id is in the state only encrypted.
fn check_state_keeps_the_secret(state: &Path, secret: &str) {
    let mut pending = vec![state.to_path_buf()];
    let mut files = 0;
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("state dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            files += 1;
            let bytes = std::fs::read(&path).expect("readable");
            assert!(
                !bytes.windows(secret.len()).any(|window| window == secret.as_bytes()),
                "{} holds the secret in clear",
                path.display()
            );
        }
    }
    assert!(files > 0);
}

/// After destroy: nothing carrying our ownership tag in either account, and the named
/// resources are gone.
fn check_nothing_left(deployment: &Deployment) {
    let left = deployment.inventory();
    assert!(left.is_empty(), "left in AWS: {left:#?}");
}
