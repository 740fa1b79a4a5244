//! `aws:kms/Key`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_kms::types::{KeyMetadata, KeyState, Tag};
use cairn_dsl::aws::kms::KeyArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use super::once;
use crate::errors::{
    AwsError, CONSISTENCY_RETRIES, Result, built, principal_not_yet_visible,
    referenced_not_yet_visible, retry_consistency, sdk_error, unless_gone,
};
use crate::resources::{
    Context, Handler, create_unless_made, observed_document, observed_inputs, observed_tags,
    outputs, owned_by, recorded_id, recorded_input, sync_tags,
};

/// The only key policy name KMS has.
const POLICY_NAME: &str = "default";

/// The waiting period before a deleted key is gone, when the program does not say.
const DEFAULT_DELETION_WINDOW_DAYS: i64 = 30;

/// Creates, updates, reads and schedules the deletion of KMS keys.
pub struct KeyHandler;

#[async_trait]
impl Handler for KeyHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: KeyArgs = cx.args()?;
        let tags = kms_tags(&cx.tags_with_ownership(&args.tags))?;
        // A key policy naming a principal created a moment ago fails until KMS sees it.
        let create = || {
            retry_consistency(
                "creating the key",
                CONSISTENCY_RETRIES,
                principal_not_yet_visible,
                || async {
                    let created = cx
                        .clients
                        .kms
                        .create_key()
                        .set_description(args.description.clone())
                        .set_policy(args.policy.clone())
                        .set_tags(Some(tags.clone()))
                        .customize()
                        .config_override(once())
                        .send()
                        .await
                        .map_err(|error| sdk_error("creating the KMS key", error))?;
                    created.key_metadata.ok_or_else(|| {
                        AwsError::new("AWS created a KMS key but did not describe it")
                    })
                },
            )
        };
        let key = create_unless_made(cx, create, || owned_key(cx)).await?;
        if args.enable_key_rotation == Some(true) {
            set_rotation(cx, key.key_id(), true).await?;
        }
        key_outputs(&key)
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        let args: KeyArgs = cx.args()?;
        let old: KeyArgs = cx.prior_args(prior)?;
        let id = recorded_id(prior)?;
        if args.description != old.description {
            let description = args.description.clone().unwrap_or_default();
            let call = cx.clients.kms.update_key_description().key_id(id).description(description);
            call.send().await.map_err(|error| {
                sdk_error(&format!("changing the description of key {id}"), error)
            })?;
        }
        if args.enable_key_rotation != old.enable_key_rotation {
            set_rotation(cx, id, args.enable_key_rotation == Some(true)).await?;
        }
        if args.policy != old.policy {
            put_policy(cx, id, &args.policy).await?;
        }
        update_key_tags(cx, id, &old, &args).await?;
        key_outputs(&describe_key(cx, id).await?)
    }

    /// Schedules the deletion after the key's waiting period; a key already pending
    /// deletion is gone as far as cairn is concerned.
    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let args: KeyArgs = cx.prior_args(prior)?;
        let id = recorded_id(prior)?;
        if live_key(cx, id).await?.is_none() {
            return Ok(());
        }
        let days = args.deletion_window_in_days.unwrap_or(DEFAULT_DELETION_WINDOW_DAYS);
        let days = i32::try_from(days).map_err(|_| {
            AwsError::new(format!("deletion_window_in_days {days} is out of range: use 7 to 30"))
        })?;
        let scheduled =
            cx.clients.kms.schedule_key_deletion().key_id(id).pending_window_in_days(days);
        scheduled
            .send()
            .await
            .map_err(|error| sdk_error(&format!("scheduling the deletion of key {id}"), error))?;
        Ok(())
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let id = recorded_id(prior)?;
        let Some(key) = live_key(cx, id).await? else { return Ok(None) };
        let asked: KeyArgs = cx.prior_args(prior)?;
        let policy = read_policy(cx, id)
            .await?
            .map(|policy| observed_document(&policy, asked.policy.as_deref()));
        let tags = read_tags(cx, id).await?;
        let inputs = observed_inputs([
            ("description", key.description().filter(|text| !text.is_empty()).map(|d| json!(d))),
            ("enable_key_rotation", Some(json!(rotation_enabled(cx, id).await?))),
            ("policy", policy),
            ("deletion_window_in_days", recorded_input(prior, "deletion_window_in_days")),
            ("tags", observed_tags(&tags)),
        ]);
        Ok(Some(Observed { inputs, outputs: key_outputs(&key)? }))
    }

    /// Among the account's keys in the region, the live one that carries this URN's tag.
    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        owned_key(cx).await?.as_ref().map(key_outputs).transpose()
    }
}

/// KMS tags from a map.
fn kms_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(key, value)| {
            built(Tag::builder().tag_key(key).tag_value(value).build(), "a KMS tag")
        })
        .collect()
}

/// The key's outputs: its id and ARN.
fn key_outputs(key: &KeyMetadata) -> Result<Outputs> {
    let arn = key.arn().ok_or_else(|| {
        AwsError::new(format!("AWS described KMS key {} without its ARN", key.key_id()))
    })?;
    Ok(outputs([("id", json!(key.key_id())), ("arn", json!(arn))]))
}

async fn describe_key(cx: &Context<'_>, id: &str) -> Result<KeyMetadata> {
    let found = cx
        .clients
        .kms
        .describe_key()
        .key_id(id)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading KMS key {id}"), error))?;
    found
        .key_metadata
        .ok_or_else(|| AwsError::new(format!("AWS described KMS key {id} without details")))
}

/// The key, `None` when it is gone or pending deletion.
async fn live_key(cx: &Context<'_>, id: &str) -> Result<Option<KeyMetadata>> {
    let key = unless_gone(describe_key(cx, id).await)?;
    Ok(key.filter(|key| key.key_state() != Some(&KeyState::PendingDeletion)))
}

/// Turns yearly rotation on or off, waiting for a key created a moment ago.
async fn set_rotation(cx: &Context<'_>, id: &str, on: bool) -> Result<()> {
    retry_consistency(
        "setting the key rotation",
        CONSISTENCY_RETRIES,
        referenced_not_yet_visible,
        || async {
            let kms = &cx.clients.kms;
            let doing = format!("setting the rotation of key {id}");
            if on {
                let sent = kms.enable_key_rotation().key_id(id).send().await;
                sent.map(|_| ()).map_err(|error| sdk_error(&doing, error))
            } else {
                let sent = kms.disable_key_rotation().key_id(id).send().await;
                sent.map(|_| ()).map_err(|error| sdk_error(&doing, error))
            }
        },
    )
    .await
}

async fn rotation_enabled(cx: &Context<'_>, id: &str) -> Result<bool> {
    let found = cx
        .clients
        .kms
        .get_key_rotation_status()
        .key_id(id)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading the rotation of key {id}"), error))?;
    Ok(found.key_rotation_enabled())
}

/// Puts the program's key policy, or AWS's default one (the account's IAM policies decide)
/// when the program no longer sets one: a key always has a policy.
async fn put_policy(cx: &Context<'_>, id: &str, policy: &Option<String>) -> Result<()> {
    let policy = policy.clone().unwrap_or_else(|| default_policy(cx.account()));
    retry_consistency(
        "putting the key policy",
        CONSISTENCY_RETRIES,
        principal_not_yet_visible,
        || async {
            cx.clients
                .kms
                .put_key_policy()
                .key_id(id)
                .policy_name(POLICY_NAME)
                .policy(&policy)
                .send()
                .await
                .map_err(|error| sdk_error(&format!("setting the policy of key {id}"), error))
        },
    )
    .await?;
    Ok(())
}

/// The key policy AWS gives a key created without one.
fn default_policy(account: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "kms:*",
            "Resource": "*",
        }],
    })
    .to_string()
}

async fn read_policy(cx: &Context<'_>, id: &str) -> Result<Option<String>> {
    let found = cx
        .clients
        .kms
        .get_key_policy()
        .key_id(id)
        .policy_name(POLICY_NAME)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading the policy of key {id}"), error))?;
    Ok(found.policy)
}

async fn read_tags(cx: &Context<'_>, id: &str) -> Result<BTreeMap<String, String>> {
    let tags = cx
        .clients
        .kms
        .list_resource_tags()
        .key_id(id)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|error| sdk_error(&format!("reading the tags of key {id}"), error))?;
    Ok(tags.into_iter().map(|tag| (tag.tag_key, tag.tag_value)).collect())
}

/// Makes the key's tags go from `old`'s to `new`'s (cairn's own untouched).
async fn update_key_tags(cx: &Context<'_>, id: &str, old: &KeyArgs, new: &KeyArgs) -> Result<()> {
    let kms = &cx.clients.kms;
    let untag = |keys| async move {
        let call = kms.untag_resource().key_id(id).set_tag_keys(Some(keys));
        call.send()
            .await
            .map(|_| ())
            .map_err(|error| sdk_error(&format!("removing tags from key {id}"), error))
    };
    let tag = |tags| async move {
        let call = kms.tag_resource().key_id(id).set_tags(Some(kms_tags(&tags)?));
        call.send()
            .await
            .map(|_| ())
            .map_err(|error| sdk_error(&format!("tagging key {id}"), error))
    };
    sync_tags(&old.tags, &new.tags, untag, tag).await
}

/// The live key carrying this URN's ownership tag (not the one it replaces), if any.
async fn owned_key(cx: &Context<'_>) -> Result<Option<KeyMetadata>> {
    let keys = cx
        .clients
        .kms
        .list_keys()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|error| sdk_error("listing the KMS keys", error))?;
    for id in keys.iter().filter_map(|key| key.key_id()) {
        let tags = unless_gone(read_tags(cx, id).await)?.unwrap_or_default();
        if !owned_by(&tags, cx.urn()) || cx.is_replaced(Some(id)) {
            continue;
        }
        if let Some(key) = live_key(cx, id).await? {
            return Ok(Some(key));
        }
    }
    Ok(None)
}
