//! `aws:ec2/NatGateway`: created and deleted asynchronously, so both wait for the outcome.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{ConnectivityType, Filter, NatGateway, NatGatewayState, ResourceType};
use cairn_dsl::aws::ec2::NatGatewayArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use crate::errors::{
    AwsError, CONSISTENCY_RETRIES, Patience, Result, answered, done_when_gone,
    referenced_not_yet_visible, required, retry_consistency, sdk_error, unless_gone, wait_until,
};
use crate::resources::ec2::{ownership_filter, retag, tag_pairs, tag_specification};
use crate::resources::{
    Context, Handler, id_outputs, observed_inputs, observed_tags, owned_by, recorded_id,
};

/// NAT gateways take minutes to become available or to go away in AWS.
const NAT_PATIENCE: Patience = Patience::up_to(Duration::from_secs(600), Duration::from_secs(5));

/// Creates, retags, reads and deletes NAT gateways.
pub struct NatGatewayHandler;

#[async_trait]
impl Handler for NatGatewayHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: NatGatewayArgs = cx.args()?;
        let subnet = required(args.subnet_id.as_deref(), "aws:ec2/NatGateway", "subnet_id")?;
        // Sent even when it is the default: moto 5.2.5 reports no type for a NAT gateway
        // created without one (AWS reports `public`).
        let connectivity =
            ConnectivityType::from(args.connectivity_type.as_deref().unwrap_or("public"));
        let created = retry_consistency(
            "creating the NAT gateway",
            CONSISTENCY_RETRIES,
            referenced_not_yet_visible,
            || async {
                cx.clients
                    .ec2
                    .create_nat_gateway()
                    .subnet_id(subnet)
                    .set_allocation_id(args.allocation_id.clone())
                    .connectivity_type(connectivity.clone())
                    .tag_specifications(tag_specification(cx, ResourceType::Natgateway, &args.tags))
                    .send()
                    .await
                    .map_err(|error| {
                        sdk_error(&format!("creating a NAT gateway in {subnet}"), error)
                    })
            },
        )
        .await?;
        let gateway = answered(created.nat_gateway(), "the new NAT gateway")?;
        let id = answered(gateway.nat_gateway_id(), "the new NAT gateway's id")?;
        wait_until("the NAT gateway to be available", NAT_PATIENCE, || async {
            Ok(live_state(cx, id).await?.as_deref() == Some("available"))
        })
        .await?;
        Ok(id_outputs(id))
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        retag(cx, prior).await
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let id = recorded_id(prior)?;
        // Only a live NAT gateway is deleted: moto 5.2.5 answers DeleteNatGateway for an
        // unknown one with a server error.
        if describe_nat(cx, id).await?.is_none() {
            return Ok(());
        }
        let deleted = cx
            .clients
            .ec2
            .delete_nat_gateway()
            .nat_gateway_id(id)
            .send()
            .await
            .map_err(|error| sdk_error(&format!("deleting NAT gateway {id}"), error));
        done_when_gone(deleted)?;
        wait_until("the NAT gateway to be deleted", NAT_PATIENCE, || async {
            Ok(live_state(cx, id).await?.is_none())
        })
        .await
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let id = recorded_id(prior)?;
        let Some(gateway) = describe_nat(cx, id).await? else { return Ok(None) };
        let allocation =
            gateway.nat_gateway_addresses().iter().find_map(|address| address.allocation_id());
        let inputs = observed_inputs([
            ("subnet_id", gateway.subnet_id().map(|subnet| json!(subnet))),
            ("allocation_id", allocation.map(|allocation| json!(allocation))),
            ("connectivity_type", gateway.connectivity_type().map(|kind| json!(kind.as_str()))),
            ("tags", observed_tags(tag_pairs(gateway.tags()))),
        ]);
        Ok(Some(Observed { inputs, outputs: id_outputs(id) }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        // moto 5.2.5 ignores tag filters on DescribeNatGateways (AWS honours them), so the
        // tag is checked here as well.
        let found = cx
            .clients
            .ec2
            .describe_nat_gateways()
            .filter(ownership_filter(cx))
            .filter(Filter::builder().name("state").values("pending").values("available").build())
            .send()
            .await
            .map_err(|error| sdk_error("looking for the NAT gateway by ownership tag", error))?;
        let owned = found
            .nat_gateways()
            .iter()
            .find(|gateway| owned_by(tag_pairs(gateway.tags()), cx.urn()));
        let id = owned.and_then(NatGateway::nat_gateway_id);
        Ok(id.map(id_outputs))
    }
}

/// The NAT gateway `id`, or `None` when it does not exist or is deleted (AWS lists deleted
/// ones for about an hour).
async fn describe_nat(cx: &Context<'_>, id: &str) -> Result<Option<NatGateway>> {
    let found = cx
        .clients
        .ec2
        .describe_nat_gateways()
        .nat_gateway_ids(id)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading NAT gateway {id}"), error));
    let gateway = unless_gone(found)?.and_then(|found| found.nat_gateways().first().cloned());
    Ok(gateway.filter(|gateway| gateway.state() != Some(&NatGatewayState::Deleted)))
}

/// The NAT gateway's state in lower case, `None` when it is gone; an error when it failed.
async fn live_state(cx: &Context<'_>, id: &str) -> Result<Option<String>> {
    let Some(gateway) = describe_nat(cx, id).await? else { return Ok(None) };
    match gateway.state() {
        Some(NatGatewayState::Failed) => Err(AwsError::new(format!(
            "NAT gateway {id} failed: {} ({}); fix the cause (a public NAT gateway needs an \
             internet gateway attached to its VPC) and run apply again",
            gateway.failure_message().unwrap_or("no message"),
            gateway.failure_code().unwrap_or("no code"),
        ))),
        state => Ok(state.map(|state| state.as_str().to_ascii_lowercase())),
    }
}
