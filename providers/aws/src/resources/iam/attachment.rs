//! `aws:iam/RolePolicyAttachment`: a managed policy attached to a role.

use async_trait::async_trait;
use cairn_dsl::aws::iam::RolePolicyAttachmentArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use super::attached_policies;
use crate::errors::{
    CONSISTENCY_RETRIES, Result, done_when_gone, principal_not_yet_visible, required,
    retry_consistency, sdk_error, unless_gone,
};
use crate::resources::{Context, Handler, observed_inputs, outputs};

const TYPE: &str = "aws:iam/RolePolicyAttachment";

/// Attaches, reads and detaches managed role policies.
pub struct AttachmentHandler;

#[async_trait]
impl Handler for AttachmentHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: RolePolicyAttachmentArgs = cx.args()?;
        let (role, policy) = role_and_policy(&args)?;
        retry_consistency(
            "attaching the policy",
            CONSISTENCY_RETRIES,
            principal_not_yet_visible,
            || async {
                cx.clients
                    .iam
                    .attach_role_policy()
                    .role_name(role)
                    .policy_arn(policy)
                    .send()
                    .await
                    .map_err(|error| {
                        sdk_error(&format!("attaching {policy} to role {role}"), error)
                    })
            },
        )
        .await?;
        Ok(attachment_outputs(role, policy))
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let args: RolePolicyAttachmentArgs = cx.prior_args(prior)?;
        let (role, policy) = role_and_policy(&args)?;
        let detached = cx.clients.iam.detach_role_policy().role_name(role).policy_arn(policy);
        let detached = detached
            .send()
            .await
            .map_err(|error| sdk_error(&format!("detaching {policy} from role {role}"), error));
        done_when_gone(detached)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let args: RolePolicyAttachmentArgs = cx.prior_args(prior)?;
        let (role, policy) = role_and_policy(&args)?;
        if !is_attached(cx, role, policy).await? {
            return Ok(None);
        }
        let inputs =
            observed_inputs([("role", Some(json!(role))), ("policy_arn", Some(json!(policy)))]);
        Ok(Some(Observed { inputs, outputs: attachment_outputs(role, policy) }))
    }

    /// By its role and policy, which identify it.
    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: RolePolicyAttachmentArgs = cx.args()?;
        let (role, policy) = role_and_policy(&args)?;
        let attached = is_attached(cx, role, policy).await?;
        Ok(attached.then(|| attachment_outputs(role, policy)))
    }
}

/// Whether `policy` is attached to `role` (false when the role is gone).
async fn is_attached(cx: &Context<'_>, role: &str, policy: &str) -> Result<bool> {
    let attached = unless_gone(attached_policies(cx, role).await)?.unwrap_or_default();
    Ok(attached.iter().any(|attached| attached == policy))
}

/// The role and the policy's ARN, which identify the attachment.
fn role_and_policy(args: &RolePolicyAttachmentArgs) -> Result<(&str, &str)> {
    Ok((
        required(args.role.as_deref(), TYPE, "role")?,
        required(args.policy_arn.as_deref(), TYPE, "policy_arn")?,
    ))
}

/// `id` = `<role>:<policy_arn>`.
fn attachment_outputs(role: &str, policy: &str) -> Outputs {
    outputs([("id", json!(format!("{role}:{policy}")))])
}
