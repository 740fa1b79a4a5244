//! The VPC peering program's stack config.

use std::path::Path;

use serde::Deserialize;

use crate::config::{ConfigError, Tags};

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
    /// A role cairn assumes to act in this account (the deployer role); when absent, the
    /// default credential chain must already act in `account_id`.
    #[serde(default)]
    pub deployer_role_arn: Option<String>,
    /// The external id the deployer role's trust policy requires, if any.
    #[serde(default)]
    pub deployer_external_id: Option<String>,
}

/// Checks what the types cannot: account ids, and one private subnet per zone.
pub fn check(config: &PeeringConfig, path: &Path) -> Result<(), ConfigError> {
    let problem = |key: String, problem: String, fix: &str| ConfigError::Value {
        path: path.to_owned(),
        key,
        problem,
        fix: fix.to_owned(),
    };
    for (name, side) in [("trading", &config.trading), ("analytics", &config.analytics)] {
        let id = &side.account_id;
        if id.len() != 12 || !id.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(problem(
                format!("{name}.account_id"),
                format!("is `{id}`, not a 12-digit AWS account id"),
                "write the account's 12-digit id as a string",
            ));
        }
        if side.availability_zones.len() != side.private_subnets.len() {
            return Err(problem(
                format!("{name}.private_subnets"),
                format!(
                    "lists {} subnets for {} availability zones",
                    side.private_subnets.len(),
                    side.availability_zones.len()
                ),
                "give one private subnet CIDR per availability zone",
            ));
        }
    }
    Ok(())
}
