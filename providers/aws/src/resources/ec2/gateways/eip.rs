//! `aws:ec2/Eip`: an Elastic IP address in a VPC.

use async_trait::async_trait;
use aws_sdk_ec2::types::{Address, DomainType, ResourceType};
use cairn_dsl::aws::ec2::EipArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use crate::errors::{
    CONSISTENCY_RETRIES, Result, answered, done_when_gone, retry_consistency, sdk_error,
    still_in_use, unless_gone,
};
use crate::resources::ec2::{once, ownership_filter, retag, tag_pairs, tag_specification};
use crate::resources::{
    Context, Handler, create_unless_made, observed_inputs, observed_tags, outputs, recorded_id,
};

/// Allocates, retags, reads and releases Elastic IPs.
pub struct EipHandler;

#[async_trait]
impl Handler for EipHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: EipArgs = cx.args()?;
        let domain = args.domain.as_deref().map_or(DomainType::Vpc, DomainType::from);
        let create = || async {
            let allocated = cx
                .clients
                .ec2
                .allocate_address()
                .domain(domain.clone())
                .tag_specifications(tag_specification(cx, ResourceType::ElasticIp, &args.tags))
                .customize()
                .config_override(once())
                .send()
                .await
                .map_err(|error| sdk_error("allocating the Elastic IP", error))?;
            let id = answered(allocated.allocation_id(), "the new address's allocation id")?;
            let public_ip = answered(allocated.public_ip(), "the new address's public IP")?;
            Ok(eip_outputs(id, public_ip))
        };
        let found = || async { owned_address(cx).await?.as_ref().map(address_outputs).transpose() };
        create_unless_made(cx, create, found).await
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        retag(cx, prior).await
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let id = recorded_id(prior)?;
        // The NAT gateway that used it may still be letting it go.
        let released = retry_consistency(
            "releasing the Elastic IP",
            CONSISTENCY_RETRIES,
            |code| still_in_use(code) || code == "InvalidIPAddress.InUse",
            || async {
                cx.clients
                    .ec2
                    .release_address()
                    .allocation_id(id)
                    .send()
                    .await
                    .map_err(|error| sdk_error(&format!("releasing Elastic IP {id}"), error))
            },
        )
        .await;
        done_when_gone(released)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let id = recorded_id(prior)?;
        let found = cx
            .clients
            .ec2
            .describe_addresses()
            .allocation_ids(id)
            .send()
            .await
            .map_err(|error| sdk_error(&format!("reading Elastic IP {id}"), error));
        let address = unless_gone(found)?.and_then(|found| found.addresses().first().cloned());
        let Some(address) = address else { return Ok(None) };
        let inputs = observed_inputs([
            ("domain", address.domain().map(|domain| json!(domain.as_str()))),
            ("tags", observed_tags(tag_pairs(address.tags()))),
        ]);
        Ok(Some(Observed { inputs, outputs: address_outputs(&address)? }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        owned_address(cx).await?.as_ref().map(address_outputs).transpose()
    }
}

fn address_outputs(address: &Address) -> Result<Outputs> {
    let id = answered(address.allocation_id(), "the address's allocation id")?;
    let public_ip = answered(address.public_ip(), "the address's public IP")?;
    Ok(eip_outputs(id, public_ip))
}

fn eip_outputs(id: &str, public_ip: &str) -> Outputs {
    outputs([("id", json!(id)), ("public_ip", json!(public_ip))])
}

/// The address carrying this URN's ownership tag (not the one it replaces), if any.
async fn owned_address(cx: &Context<'_>) -> Result<Option<Address>> {
    let found = cx
        .clients
        .ec2
        .describe_addresses()
        .filters(ownership_filter(cx))
        .send()
        .await
        .map_err(|error| sdk_error("looking for the Elastic IP by ownership tag", error))?;
    let unreplaced = |address: &&Address| !cx.is_replaced(address.allocation_id());
    Ok(found.addresses().iter().find(unreplaced).cloned())
}
