//! EC2 resource types, and what they share: tags, ownership look-ups.

mod endpoints;
mod flow_logs;
mod gateways;
mod peering;
mod routing;
mod security;
mod vpc;

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use serde_json::Value;

use super::{Context, Handler, OWNERSHIP_TAG};
use crate::errors::{Result, sdk_error};

/// The handler of an EC2 type token.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    match type_token {
        "aws:ec2/Vpc" => Some(&vpc::VpcHandler),
        _ => routing::handler(type_token)
            .or_else(|| gateways::handler(type_token))
            .or_else(|| endpoints::handler(type_token))
            .or_else(|| security::handler(type_token))
            .or_else(|| peering::handler(type_token))
            .or_else(|| flow_logs::handler(type_token)),
    }
}

/// EC2 tags from a map.
pub fn ec2_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(key, value)| Tag::builder().key(key).value(value).build()).collect()
}

/// The tag specification of a new resource: the program's tags plus the ownership tag.
pub fn tag_specification(
    cx: &Context<'_>,
    kind: ResourceType,
    tags: &Option<BTreeMap<String, String>>,
) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(ec2_tags(&cx.tags_with_ownership(tags))))
        .build()
}

/// The program's tags among a resource's EC2 tags (cairn's own left out).
pub fn program_tags(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|tag| Some((tag.key()?.to_owned(), tag.value().unwrap_or_default().to_owned())))
        .filter(|(key, _)| !key.starts_with("cairn:"))
        .collect()
}

/// The program's tags as an observed input (absent when there are none).
pub fn observed_tags(tags: &[Tag]) -> Option<Value> {
    let tags = program_tags(tags);
    (!tags.is_empty()).then(|| serde_json::json!(tags))
}

/// The filter that finds a resource by its ownership tag.
pub fn ownership_filter(cx: &Context<'_>) -> Filter {
    Filter::builder().name(format!("tag:{OWNERSHIP_TAG}")).values(cx.urn()).build()
}

/// A filter on `name` with one value.
pub fn filter(name: &str, value: impl Into<String>) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// Makes the tags of EC2 resource `id` go from `old` to `new` (cairn's own untouched).
pub async fn update_tags(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
    old: &Option<BTreeMap<String, String>>,
    new: &Option<BTreeMap<String, String>>,
) -> Result<()> {
    let old = old.clone().unwrap_or_default();
    let new = new.clone().unwrap_or_default();
    let removed: Vec<Tag> = old
        .keys()
        .filter(|key| !new.contains_key(*key))
        .map(|key| Tag::builder().key(key).build())
        .collect();
    if !removed.is_empty() {
        ec2.delete_tags()
            .resources(id)
            .set_tags(Some(removed))
            .send()
            .await
            .map_err(|error| sdk_error(&format!("removing tags from {id}"), error))?;
    }
    let changed: BTreeMap<String, String> =
        new.into_iter().filter(|(key, value)| old.get(key) != Some(value)).collect();
    if !changed.is_empty() {
        ec2.create_tags()
            .resources(id)
            .set_tags(Some(ec2_tags(&changed)))
            .send()
            .await
            .map_err(|error| sdk_error(&format!("tagging {id}"), error))?;
    }
    Ok(())
}
