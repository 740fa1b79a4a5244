//! The VPC peering program's stack config. Every key is documented in `config/README.md`.

use std::collections::{BTreeMap, BTreeSet};

use cairn::ConfigProblem;
use ipnet::Ipv4Net;
use serde::Deserialize;

/// Tags as the config spells them.
pub type Tags = BTreeMap<String, String>;

/// Everything the peering program reads from its stack config.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeeringConfig {
    /// The stack's name; part of every URN.
    pub stack: String,
    /// Appended to every name the program gives AWS, so stacks never collide. Not an
    /// environment name.
    pub environment_suffix: String,
    /// Tags every taggable resource carries; must include `CostCenter` and `Environment`.
    pub tags: Tags,
    /// The requester side: the trading VPC in account A.
    pub trading: Side,
    /// The accepter side: the analytics VPC in account B.
    pub analytics: Side,
    /// The peering itself: ports, the accepter role, its external id.
    pub peering: Peering,
    /// Flow logs, alarms and the dashboard.
    #[serde(default)]
    pub monitoring: Monitoring,
    /// AWS Config.
    #[serde(default)]
    pub compliance: Compliance,
}

/// One side of the peering: an account, a region and a VPC.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Side {
    /// The 12-digit account id cairn must act in.
    pub account_id: String,
    /// The region.
    pub region: String,
    /// The VPC's CIDR block.
    pub cidr: String,
    /// Three availability zones, one per private subnet.
    pub availability_zones: Vec<String>,
    /// Three private subnet CIDR blocks inside `cidr`.
    pub private_subnets: Vec<String>,
    /// CIDR blocks allowed to reach this side's application ports; by default the other
    /// side's private subnets. Never 0.0.0.0/0.
    #[serde(default)]
    pub allowed_cidrs: Option<Vec<String>>,
    /// Whether this VPC gets a NAT gateway (at most one), in a public subnet.
    #[serde(default)]
    pub nat_gateway: bool,
    /// The public subnet's CIDR block, when `nat_gateway` is on.
    #[serde(default)]
    pub public_subnet: Option<String>,
    /// A role cairn assumes to act in this account (the deployer role); when absent, the
    /// default credential chain must already act in `account_id`.
    #[serde(default)]
    pub deployer_role_arn: Option<String>,
    /// The external id the deployer role's trust policy requires, if any.
    #[serde(default)]
    pub deployer_external_id: Option<String>,
}

impl Side {
    /// The CIDR blocks allowed to reach this side, given the peer's private subnets.
    pub fn allowed_sources(&self, peer: &Side) -> Vec<String> {
        self.allowed_cidrs.clone().unwrap_or_else(|| peer.private_subnets.clone())
    }
}

/// The peering's settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peering {
    /// The application ports open between the VPCs.
    #[serde(default = "default_ports")]
    pub allowed_ports: Vec<u16>,
    /// The accepter role's name in account B (the suffix is appended).
    pub accepter_role_name: String,
    /// The Secrets Manager secret in account B holding the accepter role's external id. It
    /// must exist; the program reads it and never creates it.
    pub external_id_secret: String,
    /// CIDR blocks the NACLs also let the private subnets reach on 443 (the region's S3 and
    /// DynamoDB prefix-list CIDRs, used through the gateway endpoints). Never 0.0.0.0/0.
    #[serde(default)]
    pub endpoint_cidrs: Vec<String>,
}

fn default_ports() -> Vec<u16> {
    vec![443, 5432]
}

/// Flow logs, alarms and the dashboard.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// Days flow-log objects are kept in the bucket.
    #[serde(default = "default_bucket_days")]
    pub flow_log_bucket_days: i64,
    /// Days rejected-traffic logs are kept in CloudWatch Logs.
    #[serde(default = "default_log_days")]
    pub log_retention_days: i64,
    /// Rejected flow-log records in 5 minutes that raise the alarm.
    #[serde(default = "default_rejected_threshold")]
    pub rejected_packets_threshold: i64,
    /// Topic ARNs the alarms notify (none by default).
    #[serde(default)]
    pub alarm_actions: Vec<String>,
}

impl Default for Monitoring {
    fn default() -> Self {
        Monitoring {
            flow_log_bucket_days: default_bucket_days(),
            log_retention_days: default_log_days(),
            rejected_packets_threshold: default_rejected_threshold(),
            alarm_actions: Vec::new(),
        }
    }
}

fn default_bucket_days() -> i64 {
    90
}

fn default_log_days() -> i64 {
    30
}

fn default_rejected_threshold() -> i64 {
    100
}

/// AWS Config.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compliance {
    /// Create the configuration recorder and delivery channel in each account. Turn off
    /// where the organisation already runs one (an account has at most one).
    #[serde(default = "default_true")]
    pub create_recorder: bool,
}

impl Default for Compliance {
    fn default() -> Self {
        Compliance { create_recorder: true }
    }
}

fn default_true() -> bool {
    true
}

/// Checks what the types cannot, before anything is planned or called, naming the key and
/// the fix: the environment suffix, each side ([`check_side`]), two different accounts, the
/// secret's name and the alarm actions.
pub fn check(config: &PeeringConfig) -> Result<(), ConfigProblem> {
    let suffix = &config.environment_suffix;
    let plain = |byte: u8| byte.is_ascii_lowercase() || byte.is_ascii_digit();
    let suffix_ok = (1..=12).contains(&suffix.len())
        && suffix.bytes().all(|byte| plain(byte) || byte == b'-')
        && !suffix.starts_with('-')
        && !suffix.ends_with('-');
    if !suffix_ok {
        return Err(ConfigProblem::new(
            "environment_suffix",
            format!(
                "is `{suffix}`, which would make AWS refuse the names it ends (buckets, roles)"
            ),
            "use 1 to 12 lower-case letters and digits, hyphens only inside, for example x7k2",
        ));
    }
    for (name, side) in [("trading", &config.trading), ("analytics", &config.analytics)] {
        check_side(name, side)?;
    }
    if config.trading.account_id == config.analytics.account_id {
        return Err(ConfigProblem::new(
            "analytics.account_id",
            format!("is `{}`, the trading side's account too", config.analytics.account_id),
            "name account B's id: the peering connects two accounts",
        ));
    }
    if config.peering.external_id_secret.trim().is_empty() {
        return Err(ConfigProblem::new(
            "peering.external_id_secret",
            "is empty",
            "name the existing Secrets Manager secret in account B that holds the external id",
        ));
    }
    for action in &config.monitoring.alarm_actions {
        if !action.starts_with("arn:") || action.split(':').count() < 6 {
            return Err(ConfigProblem::new(
                "monitoring.alarm_actions",
                format!("holds `{action}`, which is not an ARN"),
                "list the ARNs of the SNS topics the alarms notify, arn:aws:sns:REGION:ACCOUNT:NAME",
            ));
        }
    }
    Ok(())
}

/// Checks one side: its account id, region and zones, one private subnet per zone, the NAT
/// switch's subnet, CIDR syntax, allowed CIDRs that leave something out, and a deployer role
/// that is a role of the side's own account.
fn check_side(name: &str, side: &Side) -> Result<(), ConfigProblem> {
    let problem = |key: &str, problem: String, fix: &str| {
        ConfigProblem::new(format!("{name}.{key}"), problem, fix)
    };
    let id = &side.account_id;
    if id.len() != 12 || !id.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(problem(
            "account_id",
            format!("is `{id}`, not a 12-digit AWS account id"),
            "write the account's 12-digit id as a string",
        ));
    }
    if !is_region(&side.region) {
        return Err(problem(
            "region",
            format!("is `{}`, not an AWS region name", side.region),
            "name a region as AWS writes it, for example us-east-1",
        ));
    }
    if side.availability_zones.is_empty() {
        return Err(problem(
            "availability_zones",
            "is empty".into(),
            "list the zones of the private subnets, for example [\"us-east-1a\"]",
        ));
    }
    for zone in &side.availability_zones {
        let letter = zone.strip_prefix(side.region.as_str());
        if !letter.is_some_and(|letter| {
            letter.len() == 1 && letter.bytes().all(|b| b.is_ascii_lowercase())
        }) {
            return Err(problem(
                "availability_zones",
                format!("holds `{zone}`, which is not a zone of {name}.region `{}`", side.region),
                "name zones of the side's region: the region followed by a letter",
            ));
        }
    }
    if side.availability_zones.len() != side.private_subnets.len() {
        return Err(problem(
            "private_subnets",
            format!(
                "lists {} subnets for {} availability zones",
                side.private_subnets.len(),
                side.availability_zones.len()
            ),
            "give one private subnet CIDR per availability zone",
        ));
    }
    if side.nat_gateway && side.public_subnet.is_none() {
        return Err(problem(
            "public_subnet",
            "is missing but nat_gateway is on".into(),
            "give the public subnet's CIDR block for the NAT gateway, or turn nat_gateway off",
        ));
    }
    let cidrs = std::iter::once(&side.cidr)
        .chain(&side.private_subnets)
        .chain(side.public_subnet.iter())
        .chain(side.allowed_cidrs.iter().flatten());
    for cidr in cidrs {
        if cidr.parse::<Ipv4Net>().is_err() {
            return Err(ConfigProblem::new(
                name,
                format!("holds `{cidr}`, which is not an IPv4 CIDR block"),
                "write CIDR blocks as address/prefix, for example 10.0.0.0/16",
            ));
        }
    }
    let allowed: Vec<Ipv4Net> =
        side.allowed_cidrs.iter().flatten().filter_map(|cidr| cidr.parse().ok()).collect();
    if Ipv4Net::aggregate(&allowed).iter().any(|net| net.prefix_len() == 0) {
        return Err(problem(
            "allowed_cidrs",
            format!(
                "together cover every address ({})",
                allowed.iter().map(ToString::to_string).collect::<Vec<_>>().join(" + ")
            ),
            "allow only the networks that must reach the application ports, never all of 0.0.0.0/0",
        ));
    }
    if let Some(role) = &side.deployer_role_arn {
        let expected = format!(":iam::{id}:role/");
        let in_account = role.starts_with("arn:aws")
            && role.split_once(&expected).is_some_and(|(_, name)| !name.is_empty());
        if !in_account {
            return Err(problem(
                "deployer_role_arn",
                format!("is `{role}`, not the ARN of a role in account {id}"),
                "write the deployer role's ARN, arn:aws:iam::ACCOUNT:role/NAME, in this side's account",
            ));
        }
    }
    Ok(())
}

/// Whether `name` is shaped like an AWS region: `us-east-1`, `ap-southeast-2`, `us-gov-west-1`.
fn is_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    let letters = |part: &&str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase());
    matches!(parts.len(), 3 | 4)
        && parts[0].len() == 2
        && parts[..parts.len() - 1].iter().all(letters)
        && parts
            .last()
            .is_some_and(|last| !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()))
}

/// Every string the config holds: the policy rule against hard-coded identifiers accepts
/// account ids, regions and environment names only when they come from here.
pub fn configured_values(config: &PeeringConfig) -> BTreeSet<String> {
    let mut values: BTreeSet<String> = config.tags.values().cloned().collect();
    values.insert(config.environment_suffix.clone());
    values.insert(config.stack.clone());
    for side in [&config.trading, &config.analytics] {
        values.extend([side.account_id.clone(), side.region.clone(), side.cidr.clone()]);
        values.extend(side.availability_zones.iter().cloned());
        values.extend(side.deployer_role_arn.iter().cloned());
    }
    values.extend([
        config.peering.accepter_role_name.clone(),
        config.peering.external_id_secret.clone(),
    ]);
    values.extend(config.monitoring.alarm_actions.iter().cloned());
    values
}
