//! `aws:kms/Alias`: found by its name, which is unique in the account and region.

use async_trait::async_trait;
use aws_sdk_kms::types::AliasListEntry;
use cairn_dsl::aws::kms::AliasArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use crate::errors::{
    CONSISTENCY_RETRIES, Result, done_when_gone, referenced_not_yet_visible, required,
    retry_consistency, sdk_error,
};
use crate::resources::{Context, Handler, observed_inputs, outputs, recorded_id};

const TYPE: &str = "aws:kms/Alias";

/// Creates, repoints, reads and deletes KMS aliases.
pub struct AliasHandler;

#[async_trait]
impl Handler for AliasHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: AliasArgs = cx.args()?;
        let name = required(args.name.as_deref(), TYPE, "name")?;
        let key = required(args.target_key_id.as_deref(), TYPE, "target_key_id")?;
        retry_consistency(
            "creating the alias",
            CONSISTENCY_RETRIES,
            referenced_not_yet_visible,
            || async {
                cx.clients
                    .kms
                    .create_alias()
                    .alias_name(name)
                    .target_key_id(key)
                    .send()
                    .await
                    .map_err(|error| sdk_error(&format!("creating alias {name}"), error))
            },
        )
        .await?;
        Ok(alias_outputs(cx, name))
    }

    /// Points the alias at the requested key.
    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        let args: AliasArgs = cx.args()?;
        let name = recorded_id(prior)?;
        let key = required(args.target_key_id.as_deref(), TYPE, "target_key_id")?;
        retry_consistency(
            "repointing the alias",
            CONSISTENCY_RETRIES,
            referenced_not_yet_visible,
            || async {
                cx.clients
                    .kms
                    .update_alias()
                    .alias_name(name)
                    .target_key_id(key)
                    .send()
                    .await
                    .map_err(|error| sdk_error(&format!("pointing alias {name} at {key}"), error))
            },
        )
        .await?;
        Ok(alias_outputs(cx, name))
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let name = recorded_id(prior)?;
        let deleted = cx.clients.kms.delete_alias().alias_name(name).send().await;
        done_when_gone(deleted.map_err(|error| sdk_error(&format!("deleting alias {name}"), error)))
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let name = recorded_id(prior)?;
        let Some(alias) = find_alias(cx, name).await? else { return Ok(None) };
        let asked: AliasArgs = cx.prior_args(prior)?;
        // AWS reports the key id; the program may have named the key by its ARN.
        let target = alias.target_key_id().map(|id| match asked.target_key_id {
            Some(asked) if asked == id || asked.ends_with(&format!("/{id}")) => json!(asked),
            _ => json!(id),
        });
        let inputs = observed_inputs([("name", Some(json!(name))), ("target_key_id", target)]);
        Ok(Some(Observed { inputs, outputs: alias_outputs(cx, name) }))
    }

    /// By its name.
    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: AliasArgs = cx.args()?;
        let name = required(args.name.as_deref(), TYPE, "name")?;
        Ok(find_alias(cx, name).await?.map(|_| alias_outputs(cx, name)))
    }
}

/// The alias called `name` in the binding's account and region, if any.
async fn find_alias(cx: &Context<'_>, name: &str) -> Result<Option<AliasListEntry>> {
    let aliases = cx
        .clients
        .kms
        .list_aliases()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|error| sdk_error("listing the KMS aliases", error))?;
    Ok(aliases.into_iter().find(|alias| alias.alias_name() == Some(name)))
}

/// The alias's outputs: its name as id, and its ARN.
fn alias_outputs(cx: &Context<'_>, name: &str) -> Outputs {
    let arn = format!("arn:aws:kms:{}:{}:{name}", cx.region(), cx.account());
    outputs([("id", json!(name)), ("arn", json!(arn))])
}
