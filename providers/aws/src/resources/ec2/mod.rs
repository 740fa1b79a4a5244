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
use cairn_engine::{Outputs, RecordedResource};
use serde::Deserialize;

use super::{Context, Handler, OWNERSHIP_TAG, prior_outputs, recorded_id, sync_tags};
use crate::errors::{Result, sdk_error};

/// Per-call configuration that turns the SDK's retries off, for a create that
/// [`create_unless_made`](super::create_unless_made) retries itself.
pub fn once() -> aws_sdk_ec2::config::Builder {
    aws_sdk_ec2::config::Builder::default().retry_config(aws_config::retry::RetryConfig::disabled())
}

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

/// EC2 tags as key/value pairs (a tag without a value has an empty one).
pub fn tag_pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().filter_map(|tag| Some((tag.key()?, tag.value().unwrap_or_default())))
}

/// The filter that finds a resource by its ownership tag.
pub fn ownership_filter(cx: &Context<'_>) -> Filter {
    Filter::builder().name(format!("tag:{OWNERSHIP_TAG}")).values(cx.urn()).build()
}

/// A filter on `name` with one value.
pub fn filter(name: &str, value: impl Into<String>) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// The `tags` input alone, which every taggable type has.
#[derive(Deserialize)]
struct TagsInput {
    /// The program's tags.
    tags: Option<BTreeMap<String, String>>,
}

/// The update of a resource whose only input that changes in place is `tags`: makes its
/// tags go from the recorded ones to the requested ones; the outputs stay as recorded.
pub async fn retag(cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
    let new: TagsInput = cx.args()?;
    let old: TagsInput = cx.prior_args(prior)?;
    update_tags(&cx.clients.ec2, recorded_id(prior)?, &old.tags, &new.tags).await?;
    prior_outputs(prior)
}

/// Makes the tags of EC2 resource `id` go from `old` to `new` (cairn's own untouched).
pub async fn update_tags(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
    old: &Option<BTreeMap<String, String>>,
    new: &Option<BTreeMap<String, String>>,
) -> Result<()> {
    let untag = |keys: Vec<String>| async move {
        let removed = keys.iter().map(|key| Tag::builder().key(key).build()).collect();
        let call = ec2.delete_tags().resources(id).set_tags(Some(removed));
        let sent = call.send().await;
        sent.map(drop).map_err(|error| sdk_error(&format!("removing tags from {id}"), error))
    };
    let tag = |tags| async move {
        let call = ec2.create_tags().resources(id).set_tags(Some(ec2_tags(&tags)));
        let sent = call.send().await;
        sent.map(drop).map_err(|error| sdk_error(&format!("tagging {id}"), error))
    };
    sync_tags(old, new, untag, tag).await
}
