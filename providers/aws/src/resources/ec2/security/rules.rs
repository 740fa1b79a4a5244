//! `aws:ec2/SecurityGroupIngressRule` and `aws:ec2/SecurityGroupEgressRule`: one handler,
//! told which direction it serves.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    IpPermission, IpRange, ResourceType, SecurityGroupRule, SecurityGroupRuleRequest,
    SecurityGroupRuleUpdate, TagSpecification,
};
use cairn_dsl::aws::ec2::{SecurityGroupEgressRuleArgs, SecurityGroupIngressRuleArgs};
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use crate::errors::{
    CONSISTENCY_RETRIES, Result, answered, done_when_gone, int32, referenced_not_yet_visible,
    required, retry_consistency, sdk_error, unless_gone,
};
use crate::resources::ec2::{filter, ownership_filter, tag_pairs, tag_specification, update_tags};
use crate::resources::{Context, Handler, id_outputs, observed_inputs, observed_tags, recorded_id};

/// Which traffic a rule is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Inbound traffic.
    Ingress,
    /// Outbound traffic.
    Egress,
}

/// Creates, updates, reads and deletes the security group rules of one direction.
pub struct RuleHandler(Direction);

/// The handler of `aws:ec2/SecurityGroupIngressRule`.
pub static INGRESS: RuleHandler = RuleHandler(Direction::Ingress);
/// The handler of `aws:ec2/SecurityGroupEgressRule`.
pub static EGRESS: RuleHandler = RuleHandler(Direction::Egress);

/// A rule's arguments, whichever its direction.
struct Rule {
    group: String,
    protocol: String,
    from_port: Option<i32>,
    to_port: Option<i32>,
    cidr: String,
    description: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

impl Direction {
    fn type_token(self) -> &'static str {
        match self {
            Direction::Ingress => "aws:ec2/SecurityGroupIngressRule",
            Direction::Egress => "aws:ec2/SecurityGroupEgressRule",
        }
    }

    /// The rule the request asks for, or the one recorded in `prior`.
    fn rule(self, cx: &Context<'_>, prior: Option<&RecordedResource>) -> Result<Rule> {
        macro_rules! parse {
            ($args:ty) => {{
                let args: $args = match prior {
                    Some(prior) => cx.prior_args(prior)?,
                    None => cx.args()?,
                };
                let token = self.type_token();
                Rule {
                    group: required(args.security_group_id.as_deref(), token, "security_group_id")?
                        .to_owned(),
                    protocol: required(args.ip_protocol.as_deref(), token, "ip_protocol")?
                        .to_owned(),
                    from_port: args
                        .from_port
                        .map(|port| int32(port, token, "from_port"))
                        .transpose()?,
                    to_port: args.to_port.map(|port| int32(port, token, "to_port")).transpose()?,
                    cidr: required(args.cidr_ipv4.as_deref(), token, "cidr_ipv4")?.to_owned(),
                    description: args.description,
                    tags: args.tags,
                }
            }};
        }
        Ok(match self {
            Direction::Ingress => parse!(SecurityGroupIngressRuleArgs),
            Direction::Egress => parse!(SecurityGroupEgressRuleArgs),
        })
    }

    /// Adds the rule to its group; returns the rules AWS says it added.
    async fn authorize(
        self,
        cx: &Context<'_>,
        rule: &Rule,
        tags: TagSpecification,
    ) -> Result<Vec<SecurityGroupRule>> {
        let doing = format!("adding the rule to {}", rule.group);
        let ec2 = &cx.clients.ec2;
        let permission = rule.permission();
        match self {
            Direction::Ingress => ec2
                .authorize_security_group_ingress()
                .group_id(&rule.group)
                .ip_permissions(permission)
                .tag_specifications(tags)
                .send()
                .await
                .map(|answer| answer.security_group_rules().to_vec())
                .map_err(|error| sdk_error(&doing, error)),
            Direction::Egress => ec2
                .authorize_security_group_egress()
                .group_id(&rule.group)
                .ip_permissions(permission)
                .tag_specifications(tags)
                .send()
                .await
                .map(|answer| answer.security_group_rules().to_vec())
                .map_err(|error| sdk_error(&doing, error)),
        }
    }

    /// Removes rule `id` from `group`.
    async fn revoke(self, cx: &Context<'_>, group: &str, id: &str) -> Result<()> {
        let doing = format!("removing rule {id} from {group}");
        let ec2 = &cx.clients.ec2;
        match self {
            Direction::Ingress => ec2
                .revoke_security_group_ingress()
                .group_id(group)
                .security_group_rule_ids(id)
                .send()
                .await
                .map(drop)
                .map_err(|error| sdk_error(&doing, error)),
            Direction::Egress => ec2
                .revoke_security_group_egress()
                .group_id(group)
                .security_group_rule_ids(id)
                .send()
                .await
                .map(drop)
                .map_err(|error| sdk_error(&doing, error)),
        }
    }
}

impl Rule {
    /// The rule as the permission authorize calls take.
    fn permission(&self) -> IpPermission {
        let range = IpRange::builder()
            .cidr_ip(&self.cidr)
            .set_description(self.description.clone())
            .build();
        IpPermission::builder()
            .ip_protocol(&self.protocol)
            .set_from_port(self.from_port)
            .set_to_port(self.to_port)
            .ip_ranges(range)
            .build()
    }

    /// Whether `found` is this rule (ports do not matter when every protocol is allowed).
    fn is(&self, direction: Direction, found: &SecurityGroupRule) -> bool {
        found.is_egress() == Some(direction == Direction::Egress)
            && found.ip_protocol() == Some(self.protocol.as_str())
            && found.cidr_ipv4() == Some(self.cidr.as_str())
            && (self.protocol == "-1"
                || (found.from_port() == self.from_port && found.to_port() == self.to_port))
    }

    /// The id of this rule among `rules`.
    fn id_among(&self, direction: Direction, rules: &[SecurityGroupRule]) -> Option<String> {
        rules
            .iter()
            .find(|found| self.is(direction, found))
            .and_then(|found| found.security_group_rule_id())
            .map(str::to_owned)
    }
}

#[async_trait]
impl Handler for RuleHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let direction = self.0;
        let rule = direction.rule(cx, None)?;
        let added = retry_consistency(
            "adding the security group rule",
            CONSISTENCY_RETRIES,
            referenced_not_yet_visible,
            || {
                direction.authorize(
                    cx,
                    &rule,
                    tag_specification(cx, ResourceType::SecurityGroupRule, &rule.tags),
                )
            },
        )
        .await?;
        // moto gap: when one call adds several rules, its answer lists only the last
        // permission's; AWS lists them all. Look the rule up in its group when it is missing.
        let id = match rule.id_among(direction, &added) {
            Some(id) => id,
            None => answered(
                rule.id_among(direction, &group_rules(cx, &rule.group).await?),
                "the new rule's id",
            )?,
        };
        Ok(id_outputs(&id))
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        let rule = self.0.rule(cx, None)?;
        let old = self.0.rule(cx, Some(prior))?;
        let id = recorded_id(prior)?;
        if rule.description != old.description {
            let request = SecurityGroupRuleRequest::builder()
                .ip_protocol(&rule.protocol)
                .set_from_port(rule.from_port)
                .set_to_port(rule.to_port)
                .cidr_ipv4(&rule.cidr)
                .description(rule.description.clone().unwrap_or_default())
                .build();
            let update = SecurityGroupRuleUpdate::builder()
                .security_group_rule_id(id)
                .security_group_rule(request)
                .build();
            cx.clients
                .ec2
                .modify_security_group_rules()
                .group_id(&rule.group)
                .security_group_rules(update)
                .send()
                .await
                .map_err(|error| sdk_error(&format!("changing the description of {id}"), error))?;
        }
        update_tags(&cx.clients.ec2, id, &old.tags, &rule.tags).await?;
        Ok(id_outputs(id))
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let rule = self.0.rule(cx, Some(prior))?;
        let id = recorded_id(prior)?;
        done_when_gone(self.0.revoke(cx, &rule.group, id).await)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let id = recorded_id(prior)?;
        let found = cx
            .clients
            .ec2
            .describe_security_group_rules()
            .security_group_rule_ids(id)
            .send()
            .await
            .map_err(|error| sdk_error(&format!("reading security group rule {id}"), error));
        let Some(rule) =
            unless_gone(found)?.and_then(|found| found.security_group_rules().first().cloned())
        else {
            return Ok(None);
        };
        let ports = rule.ip_protocol() != Some("-1");
        let inputs = observed_inputs([
            ("security_group_id", rule.group_id().map(|group| json!(group))),
            ("ip_protocol", rule.ip_protocol().map(|protocol| json!(protocol))),
            ("from_port", rule.from_port().filter(|_| ports).map(|port| json!(port))),
            ("to_port", rule.to_port().filter(|_| ports).map(|port| json!(port))),
            ("cidr_ipv4", rule.cidr_ipv4().map(|cidr| json!(cidr))),
            ("description", rule.description().map(|text| json!(text))),
            ("tags", observed_tags(tag_pairs(rule.tags()))),
        ]);
        Ok(Some(Observed { inputs, outputs: id_outputs(id) }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let found = cx
            .clients
            .ec2
            .describe_security_group_rules()
            .filters(ownership_filter(cx))
            .send()
            .await
            .map_err(|error| sdk_error("looking for the rule by ownership tag", error))?;
        let egress = self.0 == Direction::Egress;
        Ok(found
            .security_group_rules()
            .iter()
            .find(|rule| rule.is_egress() == Some(egress))
            .and_then(|rule| rule.security_group_rule_id())
            .map(id_outputs))
    }
}

/// Every rule of `group`.
async fn group_rules(cx: &Context<'_>, group: &str) -> Result<Vec<SecurityGroupRule>> {
    cx.clients
        .ec2
        .describe_security_group_rules()
        .filters(filter("group-id", group))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|error| sdk_error(&format!("listing the rules of {group}"), error))
}
