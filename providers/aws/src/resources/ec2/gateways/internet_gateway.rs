//! `aws:ec2/InternetGateway`: created, then attached to its VPC; detached, then deleted.

use async_trait::async_trait;
use aws_sdk_ec2::types::{InternetGateway, ResourceType};
use cairn_dsl::aws::ec2::InternetGatewayArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use crate::errors::{
    CONSISTENCY_RETRIES, Result, answered, done_when_gone, referenced_not_yet_visible, required,
    retry_consistency, sdk_error, still_in_use, unless_gone,
};
use crate::resources::ec2::{once, ownership_filter, retag, tag_pairs, tag_specification};
use crate::resources::{
    Context, Handler, create_unless_made, id_outputs, observed_inputs, observed_tags, recorded_id,
};

/// Creates, updates, reads and deletes internet gateways.
pub struct InternetGatewayHandler;

#[async_trait]
impl Handler for InternetGatewayHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: InternetGatewayArgs = cx.args()?;
        let vpc = required(args.vpc_id.as_deref(), "aws:ec2/InternetGateway", "vpc_id")?;
        let create = || async {
            let created = cx
                .clients
                .ec2
                .create_internet_gateway()
                .tag_specifications(tag_specification(
                    cx,
                    ResourceType::InternetGateway,
                    &args.tags,
                ))
                .customize()
                .config_override(once())
                .send()
                .await
                .map_err(|error| sdk_error("creating the internet gateway", error))?;
            let gateway = answered(created.internet_gateway(), "the new internet gateway")?;
            answered(gateway.internet_gateway_id(), "the new internet gateway's id")
                .map(str::to_owned)
        };
        let id = create_unless_made(cx, create, || owned_gateway(cx)).await?;
        let id = id.as_str();
        if let Err(error) = attach(cx, id, vpc).await {
            // Leave nothing behind that the state does not know about.
            delete_gateway(cx, id).await?;
            return Err(error);
        }
        Ok(id_outputs(id))
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        retag(cx, prior).await
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let id = recorded_id(prior)?;
        let Some(gateway) = describe_gateway(cx, id).await? else { return Ok(()) };
        for vpc in gateway.attachments().iter().filter_map(|attachment| attachment.vpc_id()) {
            detach(cx, id, vpc).await?;
        }
        delete_gateway(cx, id).await
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let id = recorded_id(prior)?;
        let Some(gateway) = describe_gateway(cx, id).await? else { return Ok(None) };
        let vpc = gateway.attachments().iter().find_map(|attachment| attachment.vpc_id());
        let inputs = observed_inputs([
            ("vpc_id", vpc.map(|vpc| json!(vpc))),
            ("tags", observed_tags(tag_pairs(gateway.tags()))),
        ]);
        Ok(Some(Observed { inputs, outputs: id_outputs(id) }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        Ok(owned_gateway(cx).await?.as_deref().map(id_outputs))
    }
}

/// Attaches gateway `id` to `vpc`, which (like the gateway) may have been created a moment ago.
async fn attach(cx: &Context<'_>, id: &str, vpc: &str) -> Result<()> {
    retry_consistency(
        "attaching the internet gateway",
        CONSISTENCY_RETRIES,
        referenced_not_yet_visible,
        || async {
            cx.clients
                .ec2
                .attach_internet_gateway()
                .internet_gateway_id(id)
                .vpc_id(vpc)
                .send()
                .await
                .map_err(|error| sdk_error(&format!("attaching {id} to {vpc}"), error))
        },
    )
    .await?;
    Ok(())
}

/// Detaches gateway `id` from `vpc`. AWS refuses while public addresses of the VPC (a NAT
/// gateway's) are still mapped: they go away as the NAT gateway is deleted, so it retries.
async fn detach(cx: &Context<'_>, id: &str, vpc: &str) -> Result<()> {
    let detached = retry_consistency(
        "detaching the internet gateway",
        CONSISTENCY_RETRIES,
        still_in_use,
        || async {
            cx.clients
                .ec2
                .detach_internet_gateway()
                .internet_gateway_id(id)
                .vpc_id(vpc)
                .send()
                .await
                .map_err(|error| sdk_error(&format!("detaching {id} from {vpc}"), error))
        },
    )
    .await;
    match detached {
        Err(error) if error.code == "Gateway.NotAttached" => Ok(()),
        other => done_when_gone(other),
    }
}

/// Deletes the (detached) gateway `id`; done when it is already gone.
async fn delete_gateway(cx: &Context<'_>, id: &str) -> Result<()> {
    let deleted = retry_consistency(
        "deleting the internet gateway",
        CONSISTENCY_RETRIES,
        still_in_use,
        || async {
            cx.clients
                .ec2
                .delete_internet_gateway()
                .internet_gateway_id(id)
                .send()
                .await
                .map_err(|error| sdk_error(&format!("deleting internet gateway {id}"), error))
        },
    )
    .await;
    done_when_gone(deleted)
}

/// The internet gateway `id`, or `None` when it does not exist.
async fn describe_gateway(cx: &Context<'_>, id: &str) -> Result<Option<InternetGateway>> {
    let found = cx
        .clients
        .ec2
        .describe_internet_gateways()
        .internet_gateway_ids(id)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading internet gateway {id}"), error));
    Ok(unless_gone(found)?.and_then(|found| found.internet_gateways().first().cloned()))
}

/// The id of the internet gateway carrying this URN's ownership tag (not the one it
/// replaces), if any.
async fn owned_gateway(cx: &Context<'_>) -> Result<Option<String>> {
    let found = cx
        .clients
        .ec2
        .describe_internet_gateways()
        .filters(ownership_filter(cx))
        .send()
        .await
        .map_err(|error| sdk_error("looking for the internet gateway by ownership tag", error))?;
    let ids = found.internet_gateways().iter().filter_map(|gateway| gateway.internet_gateway_id());
    Ok(ids.filter(|id| !cx.is_replaced(Some(id))).map(str::to_owned).next())
}
