//! `aws:logs/LogGroup`.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::LogGroup;
use cairn_dsl::aws::logs::LogGroupArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use crate::errors::{
    AwsError, CONSISTENCY_RETRIES, Result, done_when_gone, iam_not_yet_propagated, int32,
    referenced_not_yet_visible, required, retry_consistency, sdk_error,
};
use crate::resources::{
    Context, Handler, observed_inputs, observed_tags, outputs, owned_by, recorded_id, sync_tags,
};

const TYPE: &str = "aws:logs/LogGroup";

/// Creates, updates, reads and deletes log groups.
pub struct LogGroupHandler;

#[async_trait]
impl Handler for LogGroupHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: LogGroupArgs = cx.args()?;
        let name = required(args.name.as_deref(), TYPE, "name")?;
        let tags: HashMap<String, String> =
            cx.tags_with_ownership(&args.tags).into_iter().collect();
        // A key created a moment ago may not be usable by CloudWatch Logs yet.
        let retry_on: fn(&str) -> bool =
            if args.kms_key_id.is_some() { key_not_yet_usable } else { never };
        retry_consistency("creating the log group", CONSISTENCY_RETRIES, retry_on, || async {
            cx.clients
                .logs
                .create_log_group()
                .log_group_name(name)
                .set_kms_key_id(args.kms_key_id.clone())
                .set_tags(Some(tags.clone()))
                .send()
                .await
                .map_err(|error| sdk_error(&format!("creating log group {name}"), error))
        })
        .await?;
        set_retention(cx, name, args.retention_in_days, None).await?;
        let group = find_group(cx, name).await?.ok_or_else(|| {
            AwsError::new(format!("log group {name} is missing after its creation"))
        })?;
        group_outputs(&group)
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        let args: LogGroupArgs = cx.args()?;
        let old: LogGroupArgs = cx.prior_args(prior)?;
        let name = recorded_id(prior)?;
        set_retention(cx, name, args.retention_in_days, old.retention_in_days).await?;
        let group = find_group(cx, name).await?.ok_or_else(|| {
            AwsError::new(format!("log group {name} is gone: refresh, then apply"))
        })?;
        update_tags(cx, &group_arn(&group)?, &old.tags, &args.tags).await?;
        group_outputs(&group)
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let name = recorded_id(prior)?;
        let deleted = cx
            .clients
            .logs
            .delete_log_group()
            .log_group_name(name)
            .send()
            .await
            .map_err(|error| sdk_error(&format!("deleting log group {name}"), error));
        done_when_gone(deleted)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let Some(group) = find_group(cx, recorded_id(prior)?).await? else { return Ok(None) };
        let tags = group_tags(cx, &group_arn(&group)?).await?;
        let inputs = observed_inputs([
            ("name", group.log_group_name().map(|name| json!(name))),
            ("kms_key_id", group.kms_key_id().map(|key| json!(key))),
            ("retention_in_days", group.retention_in_days().map(|days| json!(days))),
            ("tags", observed_tags(&tags)),
        ]);
        Ok(Some(Observed { inputs, outputs: group_outputs(&group)? }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: LogGroupArgs = cx.args()?;
        let name = required(args.name.as_deref(), TYPE, "name")?;
        let Some(group) = find_group(cx, name).await? else { return Ok(None) };
        let tags = group_tags(cx, &group_arn(&group)?).await?;
        if !owned_by(&tags, cx.urn()) {
            return Ok(None);
        }
        group_outputs(&group).map(Some)
    }
}

/// Codes that mean a KMS key created a moment ago cannot be used by CloudWatch Logs yet.
fn key_not_yet_usable(code: &str) -> bool {
    code == "InvalidParameterException" || iam_not_yet_propagated(code)
}

/// Retries nothing.
fn never(_code: &str) -> bool {
    false
}

/// Makes the retention go from `before` to `wanted` (unset: events are kept forever).
async fn set_retention(
    cx: &Context<'_>,
    name: &str,
    wanted: Option<i64>,
    before: Option<i64>,
) -> Result<()> {
    if wanted == before {
        return Ok(());
    }
    let Some(days) = wanted.map(|days| int32(days, TYPE, "retention_in_days")).transpose()? else {
        let removed = cx.clients.logs.delete_retention_policy().log_group_name(name).send().await;
        removed.map_err(|error| sdk_error(&format!("removing the retention of {name}"), error))?;
        return Ok(());
    };
    retry_consistency(
        "setting the retention",
        CONSISTENCY_RETRIES,
        referenced_not_yet_visible,
        || async {
            cx.clients
                .logs
                .put_retention_policy()
                .log_group_name(name)
                .retention_in_days(days)
                .send()
                .await
                .map_err(|error| sdk_error(&format!("setting the retention of {name}"), error))
        },
    )
    .await?;
    Ok(())
}

/// The log group called exactly `name`, or `None` (the API looks groups up by prefix).
async fn find_group(cx: &Context<'_>, name: &str) -> Result<Option<LogGroup>> {
    let mut token: Option<String> = None;
    loop {
        let page = cx
            .clients
            .logs
            .describe_log_groups()
            .log_group_name_prefix(name)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|error| sdk_error(&format!("reading log group {name}"), error))?;
        if let Some(group) =
            page.log_groups().iter().find(|group| group.log_group_name() == Some(name))
        {
            return Ok(Some(group.clone()));
        }
        match page.next_token() {
            Some(next) if token.as_deref() != Some(next) => token = Some(next.to_owned()),
            _ => return Ok(None),
        }
    }
}

/// The group's ARN without the `:*` that `arn` carries.
fn group_arn(group: &LogGroup) -> Result<String> {
    let arn = group
        .log_group_arn()
        .or_else(|| group.arn().map(|arn| arn.strip_suffix(":*").unwrap_or(arn)))
        .ok_or_else(|| {
            AwsError::new(format!(
                "CloudWatch Logs described log group {} without an ARN",
                group.log_group_name().unwrap_or_default()
            ))
        })?;
    Ok(arn.to_owned())
}

/// The group's outputs: its name as id, and its ARN.
fn group_outputs(group: &LogGroup) -> Result<Outputs> {
    Ok(outputs([("id", json!(group.log_group_name())), ("arn", json!(group_arn(group)?))]))
}

async fn group_tags(cx: &Context<'_>, arn: &str) -> Result<HashMap<String, String>> {
    let found = cx
        .clients
        .logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading the tags of {arn}"), error))?;
    Ok(found.tags().cloned().unwrap_or_default())
}

/// Makes the tags of the log group `arn` go from `old` to `new`.
async fn update_tags(
    cx: &Context<'_>,
    arn: &str,
    old: &Option<BTreeMap<String, String>>,
    new: &Option<BTreeMap<String, String>>,
) -> Result<()> {
    let logs = &cx.clients.logs;
    let untag = |keys| async move {
        let call = logs.untag_resource().resource_arn(arn).set_tag_keys(Some(keys));
        let sent = call.send().await;
        sent.map(drop).map_err(|error| sdk_error(&format!("removing tags from {arn}"), error))
    };
    let tag = |tags: BTreeMap<String, String>| async move {
        let call = logs.tag_resource().resource_arn(arn).set_tags(Some(tags.into_iter().collect()));
        let sent = call.send().await;
        sent.map(drop).map_err(|error| sdk_error(&format!("tagging {arn}"), error))
    };
    sync_tags(old, new, untag, tag).await
}
