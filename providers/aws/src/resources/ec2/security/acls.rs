//! `aws:ec2/NetworkAcl`, `aws:ec2/NetworkAclEntry` and `aws:ec2/SubnetNetworkAclAssociation`.

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    Filter, NetworkAcl, NetworkAclAssociation, NetworkAclEntry, PortRange, ResourceType, RuleAction,
};
use cairn_dsl::aws::ec2::{
    NetworkAclArgs, NetworkAclEntryArgs, SubnetNetworkAclAssociationArgs, entry_key,
};
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::{Value, json};

use crate::errors::{
    AwsError, CONSISTENCY_RETRIES, Result, answered, done_when_gone, int32,
    referenced_not_yet_visible, required, retry_consistency, sdk_error, still_in_use, unless_gone,
};
use crate::resources::ec2::{filter, ownership_filter, retag, tag_pairs, tag_specification};
use crate::resources::{Context, Handler, id_outputs, observed_inputs, observed_tags, recorded_id};

/// Creates, updates, reads and deletes network ACLs.
pub struct NetworkAclHandler;

#[async_trait]
impl Handler for NetworkAclHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: NetworkAclArgs = cx.args()?;
        let vpc = required(args.vpc_id.as_deref(), "aws:ec2/NetworkAcl", "vpc_id")?;
        let created = retry_consistency(
            "creating the network ACL",
            CONSISTENCY_RETRIES,
            referenced_not_yet_visible,
            || async {
                cx.clients
                    .ec2
                    .create_network_acl()
                    .vpc_id(vpc)
                    .tag_specifications(tag_specification(cx, ResourceType::NetworkAcl, &args.tags))
                    .send()
                    .await
                    .map_err(|error| sdk_error(&format!("creating a network ACL in {vpc}"), error))
            },
        )
        .await?;
        let id = answered(
            created.network_acl().and_then(|acl| acl.network_acl_id()),
            "the new network ACL's id",
        )?;
        Ok(id_outputs(id))
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        let old: NetworkAclArgs = cx.prior_args(prior)?;
        let id = recorded_id(prior)?;
        for entry in old.unmanaged_entries.unwrap_or_default() {
            let (Some(number), Some(egress)) =
                (entry["rule_number"].as_i64(), entry["egress"].as_bool())
            else {
                continue;
            };
            let key = EntryKey {
                acl: id.to_owned(),
                egress,
                number: int32(number, ENTRY, "rule_number")?,
            };
            delete_entry(cx, &key).await?;
        }
        retag(cx, prior).await
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let id = recorded_id(prior)?;
        let deleted = retry_consistency(
            "deleting the network ACL",
            CONSISTENCY_RETRIES,
            still_in_use,
            || async {
                cx.clients
                    .ec2
                    .delete_network_acl()
                    .network_acl_id(id)
                    .send()
                    .await
                    .map_err(|error| sdk_error(&format!("deleting network ACL {id}"), error))
            },
        )
        .await;
        done_when_gone(deleted)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let id = recorded_id(prior)?;
        let Some(acl) = acl_by_id(cx, id).await? else { return Ok(None) };
        let args: NetworkAclArgs = cx.prior_args(prior)?;
        let declared = args.declared_entries.unwrap_or_default();
        let inputs = observed_inputs([
            ("vpc_id", acl.vpc_id().map(|vpc| json!(vpc))),
            ("unmanaged_entries", Some(Value::Array(unmanaged_entries(&acl, &declared)))),
            ("tags", observed_tags(tag_pairs(acl.tags()))),
        ]);
        Ok(Some(Observed { inputs, outputs: id_outputs(id) }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let found = acls_where(cx, [ownership_filter(cx)], "by ownership tag").await?;
        let ids = found.iter().filter_map(|acl| acl.network_acl_id());
        Ok(ids.filter(|id| !cx.is_replaced(Some(id))).map(id_outputs).next())
    }
}

/// Creates, replaces, reads and deletes network ACL entries.
pub struct NetworkAclEntryHandler;

/// What identifies an entry: its ACL, direction and number.
struct EntryKey {
    acl: String,
    egress: bool,
    number: i32,
}

/// What an entry says.
struct Entry {
    protocol: String,
    action: String,
    cidr: String,
    ports: Option<PortRange>,
}

const ENTRY: &str = "aws:ec2/NetworkAclEntry";

impl EntryKey {
    fn of(args: &NetworkAclEntryArgs) -> Result<Self> {
        let number = required(args.rule_number, ENTRY, "rule_number")?;
        Ok(EntryKey {
            acl: required(args.network_acl_id.as_deref(), ENTRY, "network_acl_id")?.to_owned(),
            egress: required(args.egress, ENTRY, "egress")?,
            number: int32(number, ENTRY, "rule_number")?,
        })
    }

    /// `<acl>:<ingress|egress>:<number>`.
    fn id(&self) -> String {
        let direction = if self.egress { "egress" } else { "ingress" };
        format!("{}:{direction}:{}", self.acl, self.number)
    }
}

impl Entry {
    fn of(args: &NetworkAclEntryArgs) -> Result<Self> {
        let ports = match (args.from_port, args.to_port) {
            (Some(from), Some(to)) => Some(
                PortRange::builder()
                    .from(int32(from, ENTRY, "from_port")?)
                    .to(int32(to, ENTRY, "to_port")?)
                    .build(),
            ),
            _ => None,
        };
        Ok(Entry {
            protocol: protocol_number(required(args.protocol.as_deref(), ENTRY, "protocol")?)
                .to_owned(),
            action: required(args.rule_action.as_deref(), ENTRY, "rule_action")?.to_owned(),
            cidr: required(args.cidr_block.as_deref(), ENTRY, "cidr_block")?.to_owned(),
            ports,
        })
    }
}

/// The protocol number of a protocol name (`tcp` is `6`); numbers stay as they are.
fn protocol_number(protocol: &str) -> &str {
    match protocol {
        "tcp" => "6",
        "udp" => "17",
        "all" => "-1",
        number => number,
    }
}

/// Sets the fields of a create or replace entry call (the two take the same ones).
macro_rules! entry_call {
    ($call:expr, $key:expr, $entry:expr) => {
        $call
            .network_acl_id(&$key.acl)
            .rule_number($key.number)
            .egress($key.egress)
            .protocol(&$entry.protocol)
            .rule_action(RuleAction::from($entry.action.as_str()))
            .cidr_block(&$entry.cidr)
            .set_port_range($entry.ports.clone())
    };
}

#[async_trait]
impl Handler for NetworkAclEntryHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: NetworkAclEntryArgs = cx.args()?;
        let (key, entry) = (EntryKey::of(&args)?, Entry::of(&args)?);
        let id = key.id();
        retry_consistency(
            "adding the network ACL entry",
            CONSISTENCY_RETRIES,
            referenced_not_yet_visible,
            || async {
                entry_call!(cx.clients.ec2.create_network_acl_entry(), key, entry)
                    .send()
                    .await
                    .map_err(|error| sdk_error(&format!("adding entry {id}"), error))
            },
        )
        .await?;
        Ok(id_outputs(&id))
    }

    async fn update(&self, cx: &Context<'_>, _prior: &RecordedResource) -> Result<Outputs> {
        let args: NetworkAclEntryArgs = cx.args()?;
        let (key, entry) = (EntryKey::of(&args)?, Entry::of(&args)?);
        let id = key.id();
        entry_call!(cx.clients.ec2.replace_network_acl_entry(), key, entry)
            .send()
            .await
            .map_err(|error| sdk_error(&format!("replacing entry {id}"), error))?;
        Ok(id_outputs(&id))
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let key = EntryKey::of(&cx.prior_args(prior)?)?;
        delete_entry(cx, &key).await
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let asked: NetworkAclEntryArgs = cx.prior_args(prior)?;
        let key = EntryKey::of(&asked)?;
        let Some(entry) = find_entry(cx, &key).await? else { return Ok(None) };
        let protocol = entry.protocol().map(|found| match asked.protocol.as_deref() {
            // Report the spelling the program used when it means the same protocol.
            Some(spelled) if protocol_number(spelled) == found => spelled.to_owned(),
            _ => found.to_owned(),
        });
        let ports = entry.port_range();
        let inputs = observed_inputs([
            ("network_acl_id", Some(json!(key.acl))),
            ("rule_number", entry.rule_number().map(|number| json!(number))),
            ("egress", entry.egress().map(|egress| json!(egress))),
            ("protocol", protocol.map(|protocol| json!(protocol))),
            ("rule_action", entry.rule_action().map(|action| json!(action.as_str()))),
            ("cidr_block", entry.cidr_block().map(|cidr| json!(cidr))),
            ("from_port", ports.and_then(|range| range.from()).map(|port| json!(port))),
            ("to_port", ports.and_then(|range| range.to()).map(|port| json!(port))),
        ]);
        Ok(Some(Observed { inputs, outputs: id_outputs(&key.id()) }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let key = EntryKey::of(&cx.args()?)?;
        Ok(find_entry(cx, &key).await?.map(|_| id_outputs(&key.id())))
    }
}

/// The entry `key` names, `None` when it or its ACL is gone.
async fn find_entry(cx: &Context<'_>, key: &EntryKey) -> Result<Option<NetworkAclEntry>> {
    let Some(acl) = acl_by_id(cx, &key.acl).await? else { return Ok(None) };
    Ok(acl
        .entries()
        .iter()
        .find(|entry| entry.rule_number() == Some(key.number) && entry.egress() == Some(key.egress))
        .cloned())
}

/// Moves subnets onto network ACLs, and back onto their VPC's default ACL.
pub struct AssociationHandler;

const ASSOCIATION: &str = "aws:ec2/SubnetNetworkAclAssociation";

#[async_trait]
impl Handler for AssociationHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: SubnetNetworkAclAssociationArgs = cx.args()?;
        associate(cx, &args).await
    }

    async fn update(&self, cx: &Context<'_>, _prior: &RecordedResource) -> Result<Outputs> {
        let args: SubnetNetworkAclAssociationArgs = cx.args()?;
        associate(cx, &args).await
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let args: SubnetNetworkAclAssociationArgs = cx.prior_args(prior)?;
        let subnet = required(args.subnet_id.as_deref(), ASSOCIATION, "subnet_id")?;
        let id = recorded_id(prior)?;
        // Gone with its subnet, or moved on by someone else: nothing of ours to undo.
        let Some((acl, association)) = subnet_association(cx, subnet).await? else { return Ok(()) };
        if association.network_acl_association_id() != Some(id) || acl.is_default() == Some(true) {
            return Ok(());
        }
        let vpc = answered(acl.vpc_id(), "the network ACL's VPC")?;
        let defaults = [filter("vpc-id", vpc), filter("default", "true")];
        let found = acls_where(cx, defaults, "by default").await?;
        let default = found.first().and_then(|acl| acl.network_acl_id()).ok_or_else(|| {
            AwsError::new(format!("VPC {vpc} has no default network ACL to put {subnet} back on"))
        })?;
        replace_association(cx, id, default).await.map(drop)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let id = recorded_id(prior)?;
        let found =
            acls_where(cx, [filter("association.association-id", id)], "by association").await?;
        let association = found.iter().find_map(|acl| {
            acl.associations()
                .iter()
                .find(|association| association.network_acl_association_id() == Some(id))
        });
        Ok(association.map(|association| Observed {
            inputs: observed_inputs([
                ("subnet_id", association.subnet_id().map(|subnet| json!(subnet))),
                ("network_acl_id", association.network_acl_id().map(|acl| json!(acl))),
            ]),
            outputs: id_outputs(id),
        }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: SubnetNetworkAclAssociationArgs = cx.args()?;
        let subnet = required(args.subnet_id.as_deref(), ASSOCIATION, "subnet_id")?;
        let Some((_, association)) = subnet_association(cx, subnet).await? else { return Ok(None) };
        let wanted = required(args.network_acl_id.as_deref(), ASSOCIATION, "network_acl_id")?;
        let ours = association.network_acl_id() == Some(wanted);
        Ok(association.network_acl_association_id().filter(|_| ours).map(id_outputs))
    }
}

/// Moves the subnet onto the ACL the arguments name; returns the new association's outputs.
async fn associate(cx: &Context<'_>, args: &SubnetNetworkAclAssociationArgs) -> Result<Outputs> {
    let subnet = required(args.subnet_id.as_deref(), ASSOCIATION, "subnet_id")?;
    let acl = required(args.network_acl_id.as_deref(), ASSOCIATION, "network_acl_id")?;
    let id = retry_consistency(
        "associating the network ACL",
        CONSISTENCY_RETRIES,
        referenced_not_yet_visible,
        || async {
            let (_, current) = subnet_association(cx, subnet).await?.ok_or_else(|| {
                AwsError::coded(
                    "InvalidSubnetID.NotFound",
                    format!("subnet {subnet} has no network ACL association: is it there?"),
                )
            })?;
            let current =
                answered(current.network_acl_association_id(), "the subnet's association id")?;
            replace_association(cx, current, acl).await
        },
    )
    .await?;
    Ok(id_outputs(&id))
}

/// Replaces association `id` with one to `acl`; returns the new association's id.
async fn replace_association(cx: &Context<'_>, id: &str, acl: &str) -> Result<String> {
    let replaced = cx
        .clients
        .ec2
        .replace_network_acl_association()
        .association_id(id)
        .network_acl_id(acl)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("moving association {id} to {acl}"), error))?;
    answered(replaced.new_association_id(), "the new association id").map(str::to_owned)
}

/// The ACL a subnet is on and its association, `None` when the subnet has none.
async fn subnet_association(
    cx: &Context<'_>,
    subnet: &str,
) -> Result<Option<(NetworkAcl, NetworkAclAssociation)>> {
    let found = acls_where(cx, [filter("association.subnet-id", subnet)], "of the subnet").await?;
    Ok(found.into_iter().find_map(|acl| {
        let association = acl
            .associations()
            .iter()
            .find(|association| association.subnet_id() == Some(subnet))
            .cloned()?;
        Some((acl, association))
    }))
}

/// The network ACL `id`, `None` when it is gone.
async fn acl_by_id(cx: &Context<'_>, id: &str) -> Result<Option<NetworkAcl>> {
    // moto gap: an unknown id answers InvalidRouteTableID.NotFound (AWS:
    // InvalidNetworkAclID.NotFound); both end in `.NotFound`, which is all that is checked.
    let found = cx
        .clients
        .ec2
        .describe_network_acls()
        .network_acl_ids(id)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading network ACL {id}"), error));
    Ok(unless_gone(found)?.and_then(|found| found.network_acls().first().cloned()))
}

/// The network ACLs that match every filter (`what` says which, for errors).
async fn acls_where<const N: usize>(
    cx: &Context<'_>,
    filters: [Filter; N],
    what: &str,
) -> Result<Vec<NetworkAcl>> {
    cx.clients
        .ec2
        .describe_network_acls()
        .set_filters(Some(filters.to_vec()))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|error| sdk_error(&format!("looking up network ACLs {what}"), error))
}

/// Deletes the entry `key` names; gone already is fine.
async fn delete_entry(cx: &Context<'_>, key: &EntryKey) -> Result<()> {
    // moto gap: deleting an entry that is not there answers HTTP 500 (AWS says
    // InvalidNetworkAclEntry.NotFound), so look first.
    if find_entry(cx, key).await?.is_none() {
        return Ok(());
    }
    let deleted = cx
        .clients
        .ec2
        .delete_network_acl_entry()
        .network_acl_id(&key.acl)
        .rule_number(key.number)
        .egress(key.egress)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("deleting entry {}", key.id()), error));
    done_when_gone(deleted)
}

/// The entries of `acl` that `declared` does not name, as `{rule_number, egress, protocol,
/// rule_action, cidr, from_port, to_port}` in rule order; AWS's own deny-all entry (32767) is
/// left out.
fn unmanaged_entries(acl: &NetworkAcl, declared: &[String]) -> Vec<Value> {
    let mut found: Vec<Value> = acl
        .entries()
        .iter()
        .filter(|entry| entry.rule_number() != Some(DENY_ALL_RULE))
        .filter(|entry| {
            let key = entry_key(
                entry.egress() == Some(true),
                i64::from(entry.rule_number().unwrap_or(0)),
            );
            !declared.contains(&key)
        })
        .map(|entry| {
            json!({
                "rule_number": entry.rule_number(),
                "egress": entry.egress() == Some(true),
                "direction": if entry.egress() == Some(true) { "egress" } else { "ingress" },
                "protocol": entry.protocol(),
                "rule_action": entry.rule_action().map(RuleAction::as_str),
                "cidr": entry.cidr_block().or(entry.ipv6_cidr_block()),
                "from_port": entry.port_range().and_then(PortRange::from),
                "to_port": entry.port_range().and_then(PortRange::to),
            })
        })
        .collect();
    found.sort_by_key(|entry| (entry["egress"].as_bool(), entry["rule_number"].as_i64()));
    found
}

/// The rule number of the deny-all entry AWS puts last in every network ACL.
const DENY_ALL_RULE: i32 = 32767;
