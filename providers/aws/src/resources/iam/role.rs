//! `aws:iam/Role`.

use async_trait::async_trait;
use aws_sdk_iam::types::Role;
use cairn_dsl::aws::iam::RoleArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use super::{attached_policies, iam_tags};
use crate::errors::{
    AwsError, CONSISTENCY_RETRIES, Result, done_when_gone, iam_not_yet_propagated, required,
    retry_consistency, sdk_error, unless_gone,
};
use crate::resources::{
    Context, Handler, observed_document, observed_inputs, observed_tags, outputs, owned_by,
    recorded_id, sync_tags,
};

const TYPE: &str = "aws:iam/Role";

/// The longest session AWS gives a role that does not say.
const DEFAULT_SESSION_SECONDS: i64 = 3600;

/// Creates, updates, reads and deletes IAM roles.
pub struct RoleHandler;

#[async_trait]
impl Handler for RoleHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: RoleArgs = cx.args()?;
        let name = required(args.name.as_deref(), TYPE, "name")?;
        let trust = required(args.assume_role_policy.as_deref(), TYPE, "assume_role_policy")?;
        let tags = iam_tags(&cx.tags_with_ownership(&args.tags))?;
        let session = args.max_session_duration.map(session_seconds).transpose()?;
        // A trust policy naming a principal created a moment ago fails until IAM sees it.
        let created = retry_consistency(
            "creating the role",
            CONSISTENCY_RETRIES,
            iam_not_yet_propagated,
            || async {
                cx.clients
                    .iam
                    .create_role()
                    .role_name(name)
                    .assume_role_policy_document(trust)
                    .set_path(args.path.clone())
                    .set_description(args.description.clone())
                    .set_max_session_duration(session)
                    .set_tags(Some(tags.clone()))
                    .send()
                    .await
                    .map_err(|error| sdk_error(&format!("creating role {name}"), error))
            },
        )
        .await?;
        let role = created.role.ok_or_else(|| {
            AwsError::new(format!("AWS created role {name} but did not describe it"))
        })?;
        Ok(role_outputs(&role))
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        let args: RoleArgs = cx.args()?;
        let old: RoleArgs = cx.prior_args(prior)?;
        let name = recorded_id(prior)?;
        if args.assume_role_policy != old.assume_role_policy {
            let trust = required(args.assume_role_policy.as_deref(), TYPE, "assume_role_policy")?;
            retry_consistency(
                "changing the trust policy",
                CONSISTENCY_RETRIES,
                iam_not_yet_propagated,
                || async {
                    cx.clients
                        .iam
                        .update_assume_role_policy()
                        .role_name(name)
                        .policy_document(trust)
                        .send()
                        .await
                        .map_err(|error| {
                            sdk_error(&format!("changing the trust policy of {name}"), error)
                        })
                },
            )
            .await?;
        }
        if (&args.description, args.max_session_duration)
            != (&old.description, old.max_session_duration)
        {
            update_settings(cx, name, &args).await?;
        }
        update_role_tags(cx, name, &old, &args).await?;
        let role = get_role(cx, name).await?;
        Ok(role_outputs(&role))
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let name = recorded_id(prior)?;
        done_when_gone(delete_role(cx, name).await)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let name = recorded_id(prior)?;
        let Some(role) = unless_gone(get_role(cx, name).await)? else { return Ok(None) };
        let asked: RoleArgs = cx.prior_args(prior)?;
        let trust = role
            .assume_role_policy_document()
            .map(|document| observed_document(document, asked.assume_role_policy.as_deref()));
        let inputs = observed_inputs([
            ("name", Some(json!(role.role_name()))),
            ("assume_role_policy", trust),
            ("max_session_duration", role.max_session_duration().map(|seconds| json!(seconds))),
            ("description", role.description().filter(|text| !text.is_empty()).map(|d| json!(d))),
            ("path", Some(json!(role.path()))),
            ("tags", observed_tags(tag_pairs(&role))),
        ]);
        Ok(Some(Observed { inputs, outputs: role_outputs(&role) }))
    }

    /// By the role's name (it is unique in the account), if it carries this URN's tag.
    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: RoleArgs = cx.args()?;
        let name = required(args.name.as_deref(), TYPE, "name")?;
        let Some(role) = unless_gone(get_role(cx, name).await)? else { return Ok(None) };
        let owned = owned_by(tag_pairs(&role), cx.urn());
        Ok(owned.then(|| role_outputs(&role)))
    }
}

/// The role's outputs: its name as id, its ARN and unique id.
fn role_outputs(role: &Role) -> Outputs {
    outputs([
        ("id", json!(role.role_name())),
        ("arn", json!(role.arn())),
        ("unique_id", json!(role.role_id())),
    ])
}

/// The role's tags as key/value pairs.
fn tag_pairs(role: &Role) -> impl Iterator<Item = (&str, &str)> {
    role.tags().iter().map(|tag| (tag.key(), tag.value()))
}

/// A session duration as IAM takes it.
fn session_seconds(seconds: i64) -> Result<i32> {
    i32::try_from(seconds).map_err(|_| {
        AwsError::new(format!("max_session_duration {seconds} is out of range: use 3600 to 43200"))
    })
}

/// The role as IAM describes it.
async fn get_role(cx: &Context<'_>, name: &str) -> Result<Role> {
    let found = cx
        .clients
        .iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading role {name}"), error))?;
    found
        .role
        .ok_or_else(|| AwsError::new(format!("AWS described role {name} without its details")))
}

/// Sets the description and longest session (AWS's defaults when the program unsets them).
async fn update_settings(cx: &Context<'_>, name: &str, args: &RoleArgs) -> Result<()> {
    let session = session_seconds(args.max_session_duration.unwrap_or(DEFAULT_SESSION_SECONDS))?;
    cx.clients
        .iam
        .update_role()
        .role_name(name)
        .description(args.description.clone().unwrap_or_default())
        .max_session_duration(session)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("changing role {name}"), error))?;
    Ok(())
}

/// Makes the role's tags go from `old`'s to `new`'s (cairn's own untouched).
async fn update_role_tags(
    cx: &Context<'_>,
    name: &str,
    old: &RoleArgs,
    new: &RoleArgs,
) -> Result<()> {
    let iam = &cx.clients.iam;
    let untag = |keys| async move {
        let call = iam.untag_role().role_name(name).set_tag_keys(Some(keys));
        call.send()
            .await
            .map(|_| ())
            .map_err(|error| sdk_error(&format!("removing tags from role {name}"), error))
    };
    let tag = |tags| async move {
        let call = iam.tag_role().role_name(name).set_tags(Some(iam_tags(&tags)?));
        call.send()
            .await
            .map(|_| ())
            .map_err(|error| sdk_error(&format!("tagging role {name}"), error))
    };
    sync_tags(&old.tags, &new.tags, untag, tag).await
}

/// Detaches the role's managed policies, deletes its inline ones, then the role: AWS refuses
/// to delete a role that still has policies (`DeleteConflict`).
async fn delete_role(cx: &Context<'_>, name: &str) -> Result<()> {
    let iam = &cx.clients.iam;
    for policy in attached_policies(cx, name).await? {
        let detached = iam.detach_role_policy().role_name(name).policy_arn(&policy).send().await;
        done_when_gone(
            detached.map_err(|error| sdk_error(&format!("detaching {policy} from {name}"), error)),
        )?;
    }
    let inline = iam
        .list_role_policies()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|error| sdk_error(&format!("listing the inline policies of {name}"), error))?;
    for policy in &inline {
        let deleted = iam.delete_role_policy().role_name(name).policy_name(policy).send().await;
        done_when_gone(deleted.map_err(|error| {
            sdk_error(&format!("deleting inline policy {policy} of {name}"), error)
        }))?;
    }
    iam.delete_role()
        .role_name(name)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("deleting role {name}"), error))?;
    Ok(())
}
