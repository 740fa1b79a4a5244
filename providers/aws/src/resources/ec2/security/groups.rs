//! `aws:ec2/SecurityGroup`.

use async_trait::async_trait;
use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, SecurityGroup, SecurityGroupRule};
use cairn_dsl::aws::ec2::SecurityGroupArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::{Value, json};

use crate::errors::{
    AwsError, CONSISTENCY_RETRIES, Result, answered, done_when_gone, referenced_not_yet_visible,
    required, retry_consistency, sdk_error, still_in_use, unless_gone,
};
use crate::resources::ec2::{filter, ownership_filter, tag_pairs, tag_specification, update_tags};
use crate::resources::{
    Context, Handler, OWNERSHIP_TAG, observed_inputs, observed_tags, outputs, recorded_id,
};

const TYPE: &str = "aws:ec2/SecurityGroup";

/// Creates, updates, reads and deletes security groups.
pub struct SecurityGroupHandler;

#[async_trait]
impl Handler for SecurityGroupHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: SecurityGroupArgs = cx.args()?;
        let name = required(args.name.as_deref(), TYPE, "name")?;
        let description = required(args.description.as_deref(), TYPE, "description")?;
        let vpc = required(args.vpc_id.as_deref(), TYPE, "vpc_id")?;
        let created = retry_consistency(
            "creating the security group",
            CONSISTENCY_RETRIES,
            referenced_not_yet_visible,
            || async {
                cx.clients
                    .ec2
                    .create_security_group()
                    .group_name(name)
                    .description(description)
                    .vpc_id(vpc)
                    .tag_specifications(tag_specification(
                        cx,
                        ResourceType::SecurityGroup,
                        &args.tags,
                    ))
                    .send()
                    .await
                    .map_err(|error| sdk_error(&format!("creating security group {name}"), error))
            },
        )
        .await?;
        let id = answered(created.group_id(), "the new security group's id")?;
        if args.revoke_default_egress == Some(true)
            && let Err(error) = set_default_egress(cx, id, false).await
        {
            return Err(delete_half_made(cx, id, error).await);
        }
        Ok(group_outputs(cx, id))
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        let args: SecurityGroupArgs = cx.args()?;
        let old: SecurityGroupArgs = cx.prior_args(prior)?;
        let id = recorded_id(prior)?;
        let revoke = args.revoke_default_egress.unwrap_or(false);
        if revoke != old.revoke_default_egress.unwrap_or(false) {
            set_default_egress(cx, id, !revoke).await?;
        }
        update_tags(&cx.clients.ec2, id, &old.tags, &args.tags).await?;
        if let Some(unmanaged) = &old.unmanaged_rules {
            revoke_unmanaged(cx, id, unmanaged).await?;
        }
        Ok(group_outputs(cx, id))
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        delete_group(cx, recorded_id(prior)?).await
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let id = recorded_id(prior)?;
        let found = cx
            .clients
            .ec2
            .describe_security_groups()
            .group_ids(id)
            .send()
            .await
            .map_err(|error| sdk_error(&format!("reading security group {id}"), error));
        let Some(group) =
            unless_gone(found)?.and_then(|found| found.security_groups().first().cloned())
        else {
            return Ok(None);
        };
        let inputs = observed_inputs([
            ("name", group.group_name().map(|name| json!(name))),
            ("description", group.description().map(|text| json!(text))),
            ("vpc_id", group.vpc_id().map(|vpc| json!(vpc))),
            ("revoke_default_egress", Some(json!(!has_default_egress(&group)))),
            ("unmanaged_rules", Some(Value::Array(unmanaged_rules(cx, id).await?))),
            ("tags", observed_tags(tag_pairs(group.tags()))),
        ]);
        Ok(Some(Observed { inputs, outputs: group_outputs(cx, id) }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let found = cx
            .clients
            .ec2
            .describe_security_groups()
            .filters(ownership_filter(cx))
            .send()
            .await
            .map_err(|error| sdk_error("looking for the security group by ownership tag", error))?;
        Ok(found
            .security_groups()
            .first()
            .and_then(|group| group.group_id())
            .map(|id| group_outputs(cx, id)))
    }
}

/// Deletes group `id`, waiting while something still uses it; gone already is fine.
async fn delete_group(cx: &Context<'_>, id: &str) -> Result<()> {
    let deleted = retry_consistency(
        "deleting the security group",
        CONSISTENCY_RETRIES,
        still_in_use,
        || async {
            cx.clients
                .ec2
                .delete_security_group()
                .group_id(id)
                .send()
                .await
                .map_err(|error| sdk_error(&format!("deleting security group {id}"), error))
        },
    )
    .await;
    done_when_gone(deleted)
}

/// A new group whose allow-all egress rule could not be removed must not stay open: deletes
/// it again and returns `failure`, saying whether the group is gone or is left for the next
/// apply (which finds it by its ownership tag and removes the rule).
async fn delete_half_made(cx: &Context<'_>, id: &str, failure: AwsError) -> AwsError {
    let outcome = match delete_group(cx, id).await {
        Ok(()) => {
            format!("security group {id} was deleted again rather than left allowing all egress")
        }
        Err(error) => format!(
            "deleting security group {id} again failed too ({}): it allows all egress until \
             the next apply, which finds it by its ownership tag and removes the rule",
            error.message
        ),
    };
    AwsError { message: format!("{}; {outcome}", failure.message), ..failure }
}

/// The rules of group `id` that no resource of this stack declares (they carry no ownership
/// tag of the stack), as `{id, direction, protocol, from_port, to_port, cidr}` by id. The
/// allow-all egress rule AWS adds is left out: `revoke_default_egress` governs it.
async fn unmanaged_rules(cx: &Context<'_>, id: &str) -> Result<Vec<Value>> {
    let found = cx
        .clients
        .ec2
        .describe_security_group_rules()
        .filters(filter("group-id", id))
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading the rules of security group {id}"), error))?;
    let stack = stack_prefix(cx.urn());
    let mut rules: Vec<Value> = found
        .security_group_rules()
        .iter()
        .filter(|rule| !is_default_egress(rule))
        .filter(|rule| {
            !tag_pairs(rule.tags())
                .any(|(key, value)| key == OWNERSHIP_TAG && value.starts_with(stack))
        })
        .map(|rule| {
            let direction = if rule.is_egress() == Some(true) { "egress" } else { "ingress" };
            let peer = rule
                .cidr_ipv4()
                .or(rule.cidr_ipv6())
                .or(rule.prefix_list_id())
                .or(rule.referenced_group_info().and_then(|group| group.group_id()));
            json!({
                "id": rule.security_group_rule_id(),
                "direction": direction,
                "protocol": rule.ip_protocol(),
                "from_port": rule.from_port(),
                "to_port": rule.to_port(),
                "cidr": peer,
            })
        })
        .collect();
    rules.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    Ok(rules)
}

/// The part of `urn` every URN of its stack starts with (`urn:cairn:STACK::`).
fn stack_prefix(urn: &str) -> &str {
    match urn.find("::") {
        Some(end) => &urn[..end + 2],
        None => urn,
    }
}

/// Whether `rule` is the allow-all egress rule AWS puts in every new group.
fn is_default_egress(rule: &SecurityGroupRule) -> bool {
    rule.is_egress() == Some(true)
        && rule.ip_protocol() == Some("-1")
        && rule.cidr_ipv4() == Some(EVERYWHERE)
}

/// Revokes the rules in `unmanaged` (as [`unmanaged_rules`] reports them) from group `id`;
/// one gone already is fine.
async fn revoke_unmanaged(cx: &Context<'_>, id: &str, unmanaged: &[Value]) -> Result<()> {
    for rule in unmanaged {
        let Some(rule_id) = rule["id"].as_str() else { continue };
        let doing = format!("removing rule {rule_id}, which cairn does not declare, from {id}");
        let ec2 = &cx.clients.ec2;
        let revoked = if rule["direction"] == "egress" {
            let call =
                ec2.revoke_security_group_egress().group_id(id).security_group_rule_ids(rule_id);
            call.send().await.map(drop).map_err(|error| sdk_error(&doing, error))
        } else {
            let call =
                ec2.revoke_security_group_ingress().group_id(id).security_group_rule_ids(rule_id);
            call.send().await.map(drop).map_err(|error| sdk_error(&doing, error))
        };
        match revoked {
            Err(error)
                if !error.code.starts_with("InvalidPermission.NotFound")
                    && !error.is_not_found() =>
            {
                return Err(error);
            }
            _ => {}
        }
    }
    Ok(())
}

/// The CIDR block of the allow-all egress rule AWS puts in every new group.
const EVERYWHERE: &str = "0.0.0.0/0";

/// The allow-all egress rule: every protocol to everywhere.
fn default_egress() -> IpPermission {
    IpPermission::builder()
        .ip_protocol("-1")
        .ip_ranges(IpRange::builder().cidr_ip(EVERYWHERE).build())
        .build()
}

/// Whether the group has the allow-all egress rule.
fn has_default_egress(group: &SecurityGroup) -> bool {
    group.ip_permissions_egress().iter().any(|permission| {
        permission.ip_protocol() == Some("-1")
            && permission.ip_ranges().iter().any(|range| range.cidr_ip() == Some(EVERYWHERE))
    })
}

/// Puts the allow-all egress rule back (`present`) or removes it; done already is fine.
async fn set_default_egress(cx: &Context<'_>, id: &str, present: bool) -> Result<()> {
    let (doing, done_already) = if present {
        (format!("allowing all egress from {id}"), "InvalidPermission.Duplicate")
    } else {
        (format!("removing the allow-all egress rule of {id}"), "InvalidPermission.NotFound")
    };
    retry_consistency(
        &doing,
        CONSISTENCY_RETRIES,
        |code| code == "InvalidGroup.NotFound",
        || async {
            let ec2 = &cx.clients.ec2;
            let answer = if present {
                let call = ec2.authorize_security_group_egress().group_id(id);
                call.ip_permissions(default_egress())
                    .send()
                    .await
                    .map(drop)
                    .map_err(|error| sdk_error(&doing, error))
            } else {
                let call = ec2.revoke_security_group_egress().group_id(id);
                call.ip_permissions(default_egress())
                    .send()
                    .await
                    .map(drop)
                    .map_err(|error| sdk_error(&doing, error))
            };
            match answer {
                Err(error) if error.code == done_already => Ok(()),
                other => other,
            }
        },
    )
    .await
}

/// The group's outputs: id and ARN.
fn group_outputs(cx: &Context<'_>, id: &str) -> Outputs {
    outputs([
        ("id", json!(id)),
        ("arn", json!(format!("arn:aws:ec2:{}:{}:security-group/{id}", cx.region(), cx.account()))),
    ])
}
