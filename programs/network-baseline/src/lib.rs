//! A single-account network baseline: a private VPC with one subnet and route table per
//! zone, an S3 gateway endpoint, a security group that admits HTTPS from named CIDR blocks
//! only (its default allow-all egress removed), and flow logs of all traffic to an S3 bucket
//! encrypted with a KMS key of its own. Every name carries the environment suffix; every
//! identifier comes from the stack config.
//!
//! `cargo run -p network-baseline -- plan --config programs/network-baseline/config/local.toml`
//! (`src/main.rs` hands the program to [`cairn::run`]).

use std::collections::{BTreeMap, BTreeSet};

use cairn::aws::Account;
use cairn::aws::ec2::{
    FlowLog, RouteTable, RouteTableAssociation, SecurityGroup, SecurityGroupIngressRule, Subnet,
    Vpc, VpcEndpoint,
};
use cairn::aws::kms::Key;
use cairn::aws::s3::Bucket;
use cairn::{Binding, ConfigProblem, Declare, Input, PolicySettings, Program, Resource, Stack};
use serde::Deserialize;
use serde_json::json;

/// The stack config.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineConfig {
    /// The stack's name.
    pub stack: String,
    /// Appended to every AWS name.
    pub environment_suffix: String,
    /// Tags of every taggable resource; `CostCenter` and `Environment` are required.
    pub tags: BTreeMap<String, String>,
    /// Where the network lives.
    pub account: AccountConfig,
    /// The network itself.
    pub network: NetworkConfig,
}

/// The account and region.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// The 12-digit account id.
    pub account_id: String,
    /// The region.
    pub region: String,
    /// A role to assume in the account, if the default credentials do not act in it.
    #[serde(default)]
    pub deployer_role_arn: Option<String>,
}

/// The VPC's shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// The VPC's CIDR block.
    pub cidr: String,
    /// One zone per private subnet.
    pub availability_zones: Vec<String>,
    /// The private subnets' CIDR blocks.
    pub private_subnets: Vec<String>,
    /// CIDR blocks allowed to reach port 443.
    pub https_from: Vec<String>,
    /// Days flow-log objects are kept.
    pub flow_log_days: i64,
}

/// The program.
pub struct NetworkBaseline;

impl Program for NetworkBaseline {
    type Config = BaselineConfig;
    type Error = ConfigProblem;

    fn name(&self) -> &str {
        "network-baseline"
    }

    fn stack_name(&self, config: &BaselineConfig) -> String {
        config.stack.clone()
    }

    fn check(&self, config: &BaselineConfig) -> Result<(), ConfigProblem> {
        let network = &config.network;
        if network.availability_zones.len() != network.private_subnets.len() {
            return Err(ConfigProblem::new(
                "network.private_subnets",
                format!(
                    "lists {} subnets for {} availability zones",
                    network.private_subnets.len(),
                    network.availability_zones.len()
                ),
                "give one private subnet CIDR block per availability zone",
            ));
        }
        if network.private_subnets.is_empty() {
            return Err(ConfigProblem::new(
                "network.private_subnets",
                "is empty",
                "give at least one availability zone and its private subnet",
            ));
        }
        Ok(())
    }

    fn declare(&self, stack: &Stack, config: &BaselineConfig) {
        stack.set_default_tags(config.tags.clone());
        stack.enforce(&cairn::policy::AWS_PACK, policy_settings(config));
        let account = &config.account;
        let mut binding = Account::new("main", &account.account_id, &account.region)
            .session_name(format!("cairn-{}-{}", config.stack, config.environment_suffix));
        if let Some(role) = &account.deployer_role_arn {
            binding = binding.deployer_role(role);
        }
        let main = stack.provider(binding);
        let names = Names(&config.environment_suffix);
        let vpc = main.add(
            Vpc::new("vpc")
                .cidr_block(&config.network.cidr)
                .enable_dns_support(true)
                .enable_dns_hostnames(true)
                .tags(names.tag("vpc")),
        );
        let tables = private_subnets(&main, &names, &vpc, &config.network);
        main.add(
            VpcEndpoint::new("s3-endpoint")
                .vpc_id(vpc.id())
                .service_name(format!("com.amazonaws.{}.s3", account.region))
                .vpc_endpoint_type("Gateway")
                .route_table_ids(cairn::list(tables.iter().map(|table| table.id())))
                .tags(names.tag("s3-endpoint")),
        );
        https_group(&main, &names, &vpc, &config.network.https_from);
        let bucket = flow_log_bucket(&main, &names, config);
        main.add(
            FlowLog::new("flow-log")
                .vpc_id(vpc.id())
                .traffic_type("ALL")
                .log_destination_type("s3")
                .log_destination(bucket.arn())
                .max_aggregation_interval(60)
                .tags(names.tag("flow-log")),
        );
        stack.export("VpcId", vpc.id());
        stack.export("FlowLogBucket", bucket.id());
    }
}

/// Names given to AWS: `what` with the environment suffix.
struct Names<'a>(&'a str);

impl Names<'_> {
    fn aws(&self, what: &str) -> String {
        format!("baseline-{what}-{}", self.0)
    }

    fn tag(&self, what: &str) -> BTreeMap<String, String> {
        cairn::tags([("Name", self.aws(what).as_str())])
    }
}

/// One subnet, route table and association per zone; returns the route tables.
fn private_subnets(
    main: &Binding,
    names: &Names<'_>,
    vpc: &Resource<Vpc>,
    network: &NetworkConfig,
) -> Vec<Resource<RouteTable>> {
    let zones = network.availability_zones.iter().zip(&network.private_subnets);
    zones
        .enumerate()
        .map(|(index, (zone, cidr))| {
            let label = format!("private-{}", index + 1);
            let subnet = main.add(
                Subnet::new(&label)
                    .vpc_id(vpc.id())
                    .cidr_block(cidr)
                    .availability_zone(zone)
                    .map_public_ip_on_launch(false)
                    .tags(names.tag(&label)),
            );
            let table = main.add(
                RouteTable::new(format!("{label}-rt"))
                    .vpc_id(vpc.id())
                    .tags(names.tag(&format!("{label}-rt"))),
            );
            main.add(
                RouteTableAssociation::new(format!("{label}-rt-assoc"))
                    .route_table_id(table.id())
                    .subnet_id(subnet.id()),
            );
            table
        })
        .collect()
}

/// A security group admitting HTTPS from `sources` only, with no egress at all.
fn https_group(main: &Binding, names: &Names<'_>, vpc: &Resource<Vpc>, sources: &[String]) {
    let group = main.add(
        SecurityGroup::new("https-sg")
            .name(names.aws("https-sg"))
            .description("HTTPS from named CIDR blocks only")
            .vpc_id(vpc.id())
            .revoke_default_egress(true)
            .tags(names.tag("https-sg")),
    );
    for (index, cidr) in sources.iter().enumerate() {
        main.add(
            SecurityGroupIngressRule::new(format!("https-sg-in-{}", index + 1))
                .security_group_id(group.id())
                .ip_protocol("tcp")
                .from_port(443)
                .to_port(443)
                .cidr_ipv4(cidr)
                .description(format!("tcp 443 from {cidr}")),
        );
    }
}

/// The flow-log bucket, encrypted with a key of its own that log delivery may use.
fn flow_log_bucket(main: &Binding, names: &Names<'_>, config: &BaselineConfig) -> Resource<Bucket> {
    let account = &config.account.account_id;
    let key = main.add(
        Key::new("flow-logs-key")
            .description("Encrypts the network baseline's flow logs")
            .enable_key_rotation(true)
            .deletion_window_in_days(7)
            .policy(cairn::json_template(
                json!({
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Sid": "TheAccountAdministersTheKey", "Effect": "Allow",
                         "Principal": {"AWS": "arn:aws:iam::${account}:root"},
                         "Action": "kms:*", "Resource": "*"},
                        {"Sid": "FlowLogDeliveryEncrypts", "Effect": "Allow",
                         "Principal": {"Service": "delivery.logs.amazonaws.com"},
                         "Action": ["kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
                         "Resource": "*"}
                    ]
                }),
                [("account", Input::string(account))],
            ))
            .tags(names.tag("flow-logs-key")),
    );
    let bucket_name = format!("{}-flow-logs-{account}-{}", config.stack, config.environment_suffix);
    main.add(
        Bucket::new("flow-logs-bucket")
            .bucket(&bucket_name)
            .force_destroy(true)
            .kms_key_arn(key.arn())
            .block_public_access(true)
            .lifecycle_expiration_days(config.network.flow_log_days)
            .tags(cairn::tags([("Name", bucket_name.as_str())])),
    )
}

/// The policy pack's settings: the required tags, HTTPS only, and every configured value.
fn policy_settings(config: &BaselineConfig) -> PolicySettings {
    let mut configured: BTreeSet<String> = config.tags.values().cloned().collect();
    configured.extend([
        config.stack.clone(),
        config.environment_suffix.clone(),
        config.account.account_id.clone(),
        config.account.region.clone(),
        config.network.cidr.clone(),
    ]);
    configured.extend(config.network.availability_zones.iter().cloned());
    configured.extend(config.account.deployer_role_arn.iter().cloned());
    PolicySettings {
        required_tags: vec!["CostCenter".into(), "Environment".into()],
        allowed_ports: vec![443],
        environment_suffix: config.environment_suffix.clone(),
        configured_values: configured,
    }
}
