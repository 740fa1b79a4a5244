//! `aws:iam/RolePolicy`: an inline policy of a role, found by its role and name.

use async_trait::async_trait;
use cairn_dsl::aws::iam::RolePolicyArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use crate::errors::{
    CONSISTENCY_RETRIES, Result, done_when_gone, principal_not_yet_visible, required,
    retry_consistency, sdk_error, unless_gone,
};
use crate::resources::{Context, Handler, observed_document, observed_inputs, outputs};

const TYPE: &str = "aws:iam/RolePolicy";

/// Puts, reads and deletes inline role policies.
pub struct RolePolicyHandler;

#[async_trait]
impl Handler for RolePolicyHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        put_policy(cx).await
    }

    /// Putting the policy again replaces its document.
    async fn update(&self, cx: &Context<'_>, _prior: &RecordedResource) -> Result<Outputs> {
        put_policy(cx).await
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let args: RolePolicyArgs = cx.prior_args(prior)?;
        let (role, name) = role_and_name(&args)?;
        let deleted = cx.clients.iam.delete_role_policy().role_name(role).policy_name(name).send();
        let deleted = deleted.await.map_err(|error| {
            sdk_error(&format!("deleting inline policy {name} of role {role}"), error)
        });
        done_when_gone(deleted)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let args: RolePolicyArgs = cx.prior_args(prior)?;
        let Some(document) = policy_document(cx, &args).await? else { return Ok(None) };
        let (role, name) = role_and_name(&args)?;
        let inputs = observed_inputs([
            ("role", Some(json!(role))),
            ("name", Some(json!(name))),
            ("policy", Some(observed_document(&document, args.policy.as_deref()))),
        ]);
        Ok(Some(Observed { inputs, outputs: policy_outputs(role, name) }))
    }

    /// By its role and name, which identify it.
    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: RolePolicyArgs = cx.args()?;
        let (role, name) = role_and_name(&args)?;
        Ok(policy_document(cx, &args).await?.map(|_| policy_outputs(role, name)))
    }
}

/// Puts the requested policy on its role, waiting for a role created a moment ago.
async fn put_policy(cx: &Context<'_>) -> Result<Outputs> {
    let args: RolePolicyArgs = cx.args()?;
    let (role, name) = role_and_name(&args)?;
    let policy = required(args.policy.as_deref(), TYPE, "policy")?;
    retry_consistency(
        "putting the role policy",
        CONSISTENCY_RETRIES,
        principal_not_yet_visible,
        || async {
            cx.clients
                .iam
                .put_role_policy()
                .role_name(role)
                .policy_name(name)
                .policy_document(policy)
                .send()
                .await
                .map_err(|error| {
                    sdk_error(&format!("putting inline policy {name} on role {role}"), error)
                })
        },
    )
    .await?;
    Ok(policy_outputs(role, name))
}

/// The policy's document as IAM has it, `None` when it (or its role) is gone.
async fn policy_document(cx: &Context<'_>, args: &RolePolicyArgs) -> Result<Option<String>> {
    let (role, name) = role_and_name(args)?;
    let found = cx.clients.iam.get_role_policy().role_name(role).policy_name(name).send().await;
    let found = found
        .map_err(|error| sdk_error(&format!("reading inline policy {name} of role {role}"), error));
    Ok(unless_gone(found)?.map(|found| found.policy_document))
}

/// The role and the policy's name, which identify the policy.
fn role_and_name(args: &RolePolicyArgs) -> Result<(&str, &str)> {
    Ok((
        required(args.role.as_deref(), TYPE, "role")?,
        required(args.name.as_deref(), TYPE, "name")?,
    ))
}

/// `id` = `<role>:<name>`.
fn policy_outputs(role: &str, name: &str) -> Outputs {
    outputs([("id", json!(format!("{role}:{name}")))])
}
