//! `aws:iam/RolePolicy`: an inline policy of a role, found by its role and name.

use async_trait::async_trait;
use cairn_dsl::aws::iam::RolePolicyArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use super::common::{
    absent_as_none, gone_is_done, observed_document, principal_not_yet_visible, required,
};
use crate::errors::{CONSISTENCY_RETRIES, Result, retry_consistency, sdk_error};
use crate::resources::{Context, Handler, observed_inputs, outputs};

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
        let (role, name) = role_and_name(cx, &args)?;
        let deleted = cx.clients.iam.delete_role_policy().role_name(role).policy_name(name).send();
        let deleted = deleted.await.map(|_| ()).map_err(|error| {
            sdk_error(&format!("deleting inline policy {name} of role {role}"), error)
        });
        gone_is_done(deleted)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let args: RolePolicyArgs = cx.prior_args(prior)?;
        let Some(document) = policy_document(cx, &args).await? else { return Ok(None) };
        let (role, name) = role_and_name(cx, &args)?;
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
        let (role, name) = role_and_name(cx, &args)?;
        Ok(policy_document(cx, &args).await?.map(|_| policy_outputs(role, name)))
    }
}

/// Puts the requested policy on its role, waiting for a role created a moment ago.
async fn put_policy(cx: &Context<'_>) -> Result<Outputs> {
    let args: RolePolicyArgs = cx.args()?;
    let (role, name) = role_and_name(cx, &args)?;
    let policy = required(cx, &args.policy, "policy")?;
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
    let (role, name) = role_and_name(cx, args)?;
    let found = cx.clients.iam.get_role_policy().role_name(role).policy_name(name).send().await;
    let found = found
        .map_err(|error| sdk_error(&format!("reading inline policy {name} of role {role}"), error));
    Ok(absent_as_none(found)?.map(|found| found.policy_document))
}

fn role_and_name<'a>(cx: &Context<'_>, args: &'a RolePolicyArgs) -> Result<(&'a str, &'a str)> {
    Ok((required(cx, &args.role, "role")?, required(cx, &args.name, "name")?))
}

/// `id` = `<role>:<name>`.
fn policy_outputs(role: &str, name: &str) -> Outputs {
    outputs([("id", json!(format!("{role}:{name}")))])
}
