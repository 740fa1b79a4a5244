//! VPC peering against the emulator across two accounts (and two regions): the requester's
//! connection, the accepter, and each side's options; read back through the provider and
//! through each side's raw SDK client.

use cairn_dsl::aws::ec2::{
    Vpc, VpcPeeringConnection, VpcPeeringConnectionAccepter, VpcPeeringConnectionOptions,
};
use cairn_dsl::{Declare, Stack, secret, tags};
use cairn_engine::{Action, Provider, ProviderBinding};
use cairn_tests::{Harness, action_of, binding, fresh_account, request};
use serde_json::json;

const STACK: &str = "peering-test";

/// Connection `id` as `ec2` sees it: (status, requester DNS option, accepter DNS option).
async fn seen_from(ec2: &aws_sdk_ec2::Client, id: &str) -> (String, Option<bool>, Option<bool>) {
    let found = ec2.describe_vpc_peering_connections().vpc_peering_connection_ids(id).send().await;
    let found = found.expect("described");
    let connection = found.vpc_peering_connections().first().expect("listed").clone();
    let dns = |info: Option<&aws_sdk_ec2::types::VpcPeeringConnectionVpcInfo>| {
        info.and_then(|info| info.peering_options())
            .and_then(|options| options.allow_dns_resolution_from_remote_vpc())
    };
    (
        connection
            .status()
            .and_then(|status| status.code())
            .map(|code| code.as_str().to_owned())
            .unwrap_or_default(),
        dns(connection.requester_vpc_info()),
        dns(connection.accepter_vpc_info()),
    )
}

#[tokio::test]
async fn accounts_are_isolated() {
    let harness = Harness::new();
    let (account_a, account_b) = (fresh_account(), fresh_account());
    let (place_a, place_b) =
        (binding("a", &account_a, "us-east-1"), binding("b", &account_b, "us-east-1"));
    let stack = Stack::new(STACK);
    stack.provider(place_a.clone()).add(Vpc::new("vpc-a").cidr_block("10.0.0.0/16"));
    stack.provider(place_b.clone()).add(Vpc::new("vpc-b").cidr_block("10.1.0.0/16"));
    harness.apply(&stack).await;
    let (vpc_a, vpc_b) = (harness.output("vpc-a", "id"), harness.output("vpc-b", "id"));
    let (ec2_a, ec2_b) =
        (harness.clients(&place_a).await.ec2.clone(), harness.clients(&place_b).await.ec2.clone());

    for (client, own, foreign) in [(&ec2_a, &vpc_a, &vpc_b), (&ec2_b, &vpc_b, &vpc_a)] {
        let seen = client.describe_vpcs().vpc_ids(own).send().await.expect("its own VPC");
        assert_eq!(seen.vpcs().len(), 1);
        let error = client.describe_vpcs().vpc_ids(foreign).send().await.expect_err("invisible");
        let code = aws_sdk_ec2::error::ProvideErrorMetadata::code(&error);
        assert_eq!(code, Some("InvalidVpcID.NotFound"), "{foreign} seen from the other account");
    }
    let owner_a = harness.output("vpc-a", "owner_id");
    assert_eq!((owner_a, harness.output("vpc-b", "owner_id")), (account_a, account_b));

    harness.destroy(STACK).await;
}

/// The peering stack of the cross-account tests: VPCs in A and B, the connection requested
/// from A, accepted in B (with `role` when given), and each side's DNS option.
struct Peering<'a> {
    a: &'a ProviderBinding,
    b: &'a ProviderBinding,
    accepter_role: Option<&'a str>,
    accepter_owner: &'a str,
    requester_dns: Option<bool>,
    accepter_dns: bool,
}

impl Peering<'_> {
    fn stack(&self) -> Stack {
        let stack = Stack::new(STACK);
        let (a, b) = (stack.provider(self.a.clone()), stack.provider(self.b.clone()));
        let vpc_a = a.add(Vpc::new("vpc-a").cidr_block("10.0.0.0/16").enable_dns_support(true));
        let vpc_b = b.add(Vpc::new("vpc-b").cidr_block("10.1.0.0/16").enable_dns_support(true));
        let pcx = a.add(
            VpcPeeringConnection::new("pcx")
                .vpc_id(vpc_a.id())
                .peer_vpc_id(vpc_b.id())
                .peer_owner_id(self.b.account_id.as_str())
                .peer_region(self.b.region.as_str())
                .tags(tags([("Side", "requester")])),
        );
        let mut accepter = VpcPeeringConnectionAccepter::new("accepter")
            .vpc_peering_connection_id(pcx.id())
            .tags(tags([("Side", "accepter"), ("Owner", self.accepter_owner)]));
        if let Some(role) = self.accepter_role {
            accepter = accepter.accepter_role_arn(role).external_id(secret("peering-ext-id"));
        }
        let accepter = b.add(accepter);
        if let Some(allow) = self.requester_dns {
            a.add(
                VpcPeeringConnectionOptions::new("requester-options")
                    .vpc_peering_connection_id(accepter.id())
                    .side("requester")
                    .allow_dns_resolution_from_remote_vpc(allow),
            );
        }
        b.add(
            VpcPeeringConnectionOptions::new("accepter-options")
                .vpc_peering_connection_id(accepter.id())
                .side("accepter")
                .allow_dns_resolution_from_remote_vpc(self.accepter_dns),
        );
        stack
    }
}

/// A role in `place`'s account that account `trusted` may assume with an external id, made
/// through the raw IAM client (moto gap: moto does not enforce trust policies; on AWS the
/// accept call works only through a role B trusts A into).
async fn accepter_role(harness: &Harness, place: &ProviderBinding, trusted: &str) -> String {
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{trusted}:root")}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "peering-ext-id"}}}]});
    let clients = harness.clients(place).await;
    let created = clients
        .iam
        .create_role()
        .role_name("peering-accepter-dev")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("a role");
    created.role().map(|role| role.arn().to_owned()).expect("role arn")
}

#[tokio::test]
async fn cross_account_cross_region_peering() {
    let harness = Harness::new();
    let (account_a, account_b) = (fresh_account(), fresh_account());
    let a = binding("a", &account_a, "us-east-1");
    let b = binding("b", &account_b, "us-east-2");
    let role = accepter_role(&harness, &b, &account_a).await;
    let (ec2_a, ec2_b) =
        (harness.clients(&a).await.ec2.clone(), harness.clients(&b).await.ec2.clone());
    let mut peering = Peering {
        a: &a,
        b: &b,
        accepter_role: Some(role.as_str()),
        accepter_owner: "x",
        requester_dns: Some(true),
        accepter_dns: true,
    };

    let plan = harness.apply(&peering.stack()).await;
    for name in ["pcx", "accepter", "requester-options", "accepter-options"] {
        assert_eq!(action_of(&plan, name), Action::Create, "{name}");
    }
    let pcx = harness.output("pcx", "id");
    assert!(pcx.starts_with("pcx-"), "{pcx}");
    assert_eq!(harness.output("accepter", "id"), pcx);
    assert_eq!(harness.output("accepter", "status"), "active");
    assert_eq!(harness.output("requester-options", "id"), format!("{pcx}:requester"));
    assert_eq!(harness.output("accepter-options", "id"), format!("{pcx}:accepter"));
    // Active, and DNS resolution on for both sides, as each account sees it from its region.
    let both_on = ("active".to_owned(), Some(true), Some(true));
    assert_eq!(seen_from(&ec2_a, &pcx).await, both_on, "seen from A in us-east-1");
    assert_eq!(seen_from(&ec2_b, &pcx).await, both_on, "seen from B in us-east-2");

    let record = harness.record("pcx").expect("recorded");
    let observed = harness.observe("pcx", &a).await;
    assert_eq!(observed.inputs.get("vpc_id"), Some(&json!(harness.output("vpc-a", "id"))));
    assert_eq!(observed.inputs.get("peer_vpc_id"), Some(&json!(harness.output("vpc-b", "id"))));
    assert_eq!(observed.inputs.get("peer_owner_id"), Some(&json!(account_b)));
    assert_eq!(observed.inputs.get("peer_region"), Some(&json!("us-east-2")));
    assert_eq!(observed.inputs.get("tags"), Some(&json!({"Side": "requester"})));
    assert_eq!(observed.outputs.get("status"), Some(&json!("active")));
    let accepter = harness.record("accepter").expect("recorded");
    let observed = harness.observe("accepter", &b).await;
    assert_eq!(observed.inputs.get("vpc_peering_connection_id"), Some(&json!(pcx)));
    let accepter_tags = json!({"Side": "accepter", "Owner": "x"});
    assert_eq!(observed.inputs.get("tags"), Some(&accepter_tags), "B's own tags");
    let options = harness.record("accepter-options").expect("recorded");
    let observed = harness.observe("accepter-options", &b).await;
    assert_eq!(observed.inputs.get("allow_dns_resolution_from_remote_vpc"), Some(&json!(true)));
    assert_eq!(observed.inputs.get("side"), Some(&json!("accepter")));

    peering.accepter_dns = false;
    peering.accepter_owner = "y";
    let plan = harness.apply(&peering.stack()).await;
    assert_eq!(action_of(&plan, "accepter-options"), Action::Update);
    assert_eq!(action_of(&plan, "accepter"), Action::Update);
    assert_eq!(action_of(&plan, "requester-options"), Action::NoOp);
    assert_eq!(harness.output("pcx", "id"), pcx, "the connection stays");
    let accepter_off = ("active".to_owned(), Some(true), Some(false));
    assert_eq!(seen_from(&ec2_a, &pcx).await, accepter_off);
    assert_eq!(seen_from(&ec2_b, &pcx).await, accepter_off);
    let observed = harness.read_back("accepter", &b, &accepter).await.expect("exists");
    let accepter_tags = json!({"Side": "accepter", "Owner": "y"});
    assert_eq!(observed.inputs.get("tags"), Some(&accepter_tags), "changed in place");
    let filter = aws_sdk_ec2::types::Filter::builder().name("resource-id").values(&pcx).build();
    let requester_tags = ec2_a.describe_tags().filters(filter).send().await.expect("tags");
    assert!(
        requester_tags.tags().iter().all(|tag| tag.key() != Some("Owner")),
        "B's tags are B's alone"
    );

    // Dropping one side's options turns them off again; the connection stays.
    peering.requester_dns = None;
    let plan = harness.apply(&peering.stack()).await;
    assert_eq!(action_of(&plan, "requester-options"), Action::Delete);
    let both_off = ("active".to_owned(), Some(false), Some(false));
    assert_eq!(seen_from(&ec2_a, &pcx).await, both_off);
    assert_eq!(seen_from(&ec2_b, &pcx).await, both_off);

    harness.destroy(STACK).await;
    // moto keeps deleted connections listed as `deleted` (AWS does too, for a while).
    assert_eq!(seen_from(&ec2_a, &pcx).await.0, "deleted");
    assert!(harness.is_gone(&a, &record).await, "gone for A");
    assert!(harness.is_gone(&b, &accepter).await, "gone for B");
    assert!(harness.is_gone(&b, &options).await);
}

/// Two VPCs of one account in one region, peered; the connection to `peer` ("vpc-2" or
/// "vpc-3"), owner and region left to their defaults.
fn same_region_stack(place: &ProviderBinding, peer: &str, owner: &str) -> Stack {
    let stack = Stack::new(STACK);
    let main = stack.provider(place.clone());
    let vpc = main.add(Vpc::new("vpc-1").cidr_block("10.0.0.0/16"));
    let second = main.add(Vpc::new("vpc-2").cidr_block("10.1.0.0/16"));
    let third = main.add(Vpc::new("vpc-3").cidr_block("10.2.0.0/16"));
    let peer = if peer == "vpc-2" { second.id() } else { third.id() };
    let pcx = main.add(
        VpcPeeringConnection::new("pcx")
            .vpc_id(vpc.id())
            .peer_vpc_id(peer)
            .tags(tags([("Owner", owner)])),
    );
    let accepter =
        main.add(VpcPeeringConnectionAccepter::new("accepter").vpc_peering_connection_id(pcx.id()));
    main.add(
        VpcPeeringConnectionOptions::new("options")
            .vpc_peering_connection_id(accepter.id())
            .side("requester")
            .allow_dns_resolution_from_remote_vpc(true),
    );
    stack
}

#[tokio::test]
async fn same_region_peering_lifecycle() {
    let (harness, account, place) = Harness::with_fresh_account("us-east-1");
    let ec2 = harness.clients(&place).await.ec2.clone();

    let plan = harness.apply(&same_region_stack(&place, "vpc-2", "a")).await;
    assert_eq!(action_of(&plan, "pcx"), Action::Create);
    let first_id = harness.output("pcx", "id");
    // The connection's own answer said `pending-acceptance` (recorded); the accepter's `active`.
    assert_eq!(harness.output("pcx", "status"), "pending-acceptance");
    assert_eq!(seen_from(&ec2, &first_id).await, ("active".to_owned(), Some(true), Some(false)));
    let record = harness.record("pcx").expect("recorded");
    let observed = harness.observe("pcx", &place).await;
    assert_eq!(observed.inputs.get("peer_vpc_id"), Some(&json!(harness.output("vpc-2", "id"))));
    assert_eq!(observed.inputs.get("peer_owner_id"), Some(&json!(account)), "defaults to own");
    assert_eq!(observed.inputs.get("peer_region"), Some(&json!("us-east-1")), "defaults to own");
    assert_eq!(observed.inputs.get("tags"), Some(&json!({"Owner": "a"})));

    let plan = harness.apply(&same_region_stack(&place, "vpc-2", "b")).await;
    assert_eq!(action_of(&plan, "pcx"), Action::Update);
    assert_eq!(action_of(&plan, "accepter"), Action::NoOp);
    assert_eq!(harness.output("pcx", "id"), first_id, "an update keeps the connection");
    let observed = harness.read_back("pcx", &place, &record).await.expect("exists");
    assert_eq!(observed.inputs.get("tags"), Some(&json!({"Owner": "b"})));

    let plan = harness.apply(&same_region_stack(&place, "vpc-3", "b")).await;
    assert_eq!(action_of(&plan, "pcx"), Action::Replace);
    assert_eq!(action_of(&plan, "accepter"), Action::Replace);
    assert_eq!(action_of(&plan, "options"), Action::Replace);
    let second_id = harness.output("pcx", "id");
    assert_ne!(second_id, first_id, "another peer makes a new connection");
    assert_eq!(seen_from(&ec2, &first_id).await.0, "deleted");
    assert!(harness.is_gone(&place, &record).await, "the old one is gone");
    assert_eq!(seen_from(&ec2, &second_id).await, ("active".to_owned(), Some(true), Some(false)));

    let record = harness.record("pcx").expect("recorded");
    let options = harness.record("options").expect("recorded");
    harness.destroy(STACK).await;
    assert!(harness.is_gone(&place, &record).await, "destroy deleted it");
    assert!(harness.is_gone(&place, &options).await);
}

#[tokio::test]
async fn interrupted_peering_creates_are_found_again() {
    let (harness, _, place) = Harness::with_fresh_account("us-east-1");
    let ec2 = harness.clients(&place).await.ec2.clone();
    let mut vpcs = Vec::new();
    for cidr in ["10.0.0.0/16", "10.1.0.0/16"] {
        let created = ec2.create_vpc().cidr_block(cidr).send().await.expect("a VPC");
        vpcs.push(created.vpc().and_then(|vpc| vpc.vpc_id()).expect("VPC id").to_owned());
    }
    let provider = &harness.provider;

    // moto lists every connection whatever the filter: the tag must pick ours out.
    let inputs = json!({"vpc_id": vpcs[0], "peer_vpc_id": vpcs[1], "tags": {}});
    let decoy = request(STACK, &place, "aws:ec2/VpcPeeringConnection", "decoy", inputs.clone());
    provider.create(&decoy).await.expect("created");
    let pcx = request(STACK, &place, "aws:ec2/VpcPeeringConnection", "pcx", inputs.clone());
    let made = harness.create_and_find(&pcx).await;
    let stranger = request(STACK, &place, "aws:ec2/VpcPeeringConnection", "stranger", inputs);
    assert!(provider.find_owned(&stranger, None).await.expect("looked up").is_none());

    let id = made.get("id").cloned().expect("id");
    let accepter_inputs = json!({"vpc_peering_connection_id": id, "tags": {}});
    let accepter =
        request(STACK, &place, "aws:ec2/VpcPeeringConnectionAccepter", "accepter", accepter_inputs);
    assert!(provider.find_owned(&accepter, None).await.expect("looked up").is_none(), "not yet");
    let accepted = provider.create(&accepter).await.expect("accepted");
    assert_eq!(accepted.get("status"), Some(&json!("active")));
    let found = provider.find_owned(&accepter, None).await.expect("looked up").expect("found");
    assert_eq!(found.get("id"), Some(&id));

    let options_inputs = |allow: bool| {
        json!({"vpc_peering_connection_id": id, "side": "requester",
            "allow_dns_resolution_from_remote_vpc": allow})
    };
    let options = request(
        STACK,
        &place,
        "aws:ec2/VpcPeeringConnectionOptions",
        "options",
        options_inputs(true),
    );
    assert!(
        provider.find_owned(&options, None).await.expect("looked up").is_none(),
        "not applied yet"
    );
    provider.create(&options).await.expect("set");
    let found = provider.find_owned(&options, None).await.expect("looked up").expect("found");
    assert_eq!(
        found.get("id"),
        Some(&json!(format!("{}:requester", id.as_str().unwrap_or_default())))
    );
}

#[tokio::test]
async fn the_accept_call_is_made_as_the_accepter_role() {
    let harness = Harness::new();
    let (account_a, account_b) = (fresh_account(), fresh_account());
    let (a, b) = (binding("a", &account_a, "us-east-1"), binding("b", &account_b, "us-east-1"));
    let (ec2_a, ec2_b) =
        (harness.clients(&a).await.ec2.clone(), harness.clients(&b).await.ec2.clone());
    let mut vpcs = Vec::new();
    for (client, cidr) in [(&ec2_a, "10.0.0.0/16"), (&ec2_b, "10.1.0.0/16")] {
        let created = client.create_vpc().cidr_block(cidr).send().await.expect("a VPC");
        vpcs.push(created.vpc().and_then(|vpc| vpc.vpc_id()).expect("VPC id").to_owned());
    }
    let inputs = json!({"vpc_id": vpcs[0], "peer_vpc_id": vpcs[1], "peer_owner_id": account_b,
        "peer_region": "us-east-1", "tags": {}});
    let pcx = request(STACK, &a, "aws:ec2/VpcPeeringConnection", "pcx", inputs);
    let made = harness.provider.create(&pcx).await.expect("requested");
    let id = made.get("id").cloned().expect("id");

    // A role in the requester's account: credentials from it act in A, which may not accept
    // (OperationNotPermitted). Had the binding's own credentials (B's) been used, it would work.
    let wrong_role = format!("arn:aws:iam::{account_a}:role/not-the-accepter");
    let inputs = json!({"vpc_peering_connection_id": id, "accepter_role_arn": wrong_role,
        "external_id": "peering-ext-id", "tags": {}});
    let accepter = request(STACK, &b, "aws:ec2/VpcPeeringConnectionAccepter", "accepter", inputs);
    let error = harness.provider.create(&accepter).await.expect_err("A cannot accept");
    assert!(error.message.contains("OperationNotPermitted"), "{}", error.message);
    let pending = seen_from(&ec2_b, id.as_str().unwrap_or_default()).await.0;
    assert_eq!(pending, "pending-acceptance");

    let role = accepter_role(&harness, &b, &account_a).await;
    let inputs = json!({"vpc_peering_connection_id": id, "accepter_role_arn": role,
        "external_id": "peering-ext-id", "tags": {}});
    let accepter = request(STACK, &b, "aws:ec2/VpcPeeringConnectionAccepter", "accepter", inputs);
    let accepted = harness.provider.create(&accepter).await.expect("B's role accepts");
    assert_eq!(accepted.get("status"), Some(&json!("active")));
}
