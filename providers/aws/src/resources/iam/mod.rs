//! IAM roles, inline policies and managed policy attachments.

mod attachment;
mod role;
mod role_policy;

use std::collections::BTreeMap;

use aws_sdk_iam::types::Tag;

use crate::errors::{Result, built, sdk_error};
use crate::resources::{Context, Handler};

/// The handler of a type token of this module.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    match type_token {
        "aws:iam/Role" => Some(&role::RoleHandler),
        "aws:iam/RolePolicy" => Some(&role_policy::RolePolicyHandler),
        "aws:iam/RolePolicyAttachment" => Some(&attachment::AttachmentHandler),
        _ => None,
    }
}

/// IAM tags from a map.
fn iam_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(key, value)| built(Tag::builder().key(key).value(value).build(), "an IAM tag"))
        .collect()
}

/// The ARNs of the managed policies attached to `role`.
async fn attached_policies(cx: &Context<'_>, role: &str) -> Result<Vec<String>> {
    let attached = cx
        .clients
        .iam
        .list_attached_role_policies()
        .role_name(role)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|error| {
            sdk_error(&format!("listing the managed policies of role {role}"), error)
        })?;
    Ok(attached.into_iter().filter_map(|policy| policy.policy_arn).collect())
}
