//! `aws:ec2/Eip`: an Elastic IP address in a VPC.

use async_trait::async_trait;
use aws_sdk_ec2::types::{Address, DomainType, ResourceType};
use cairn_dsl::aws::ec2::EipArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use crate::errors::{CONSISTENCY_RETRIES, Result, retry_consistency, sdk_error, still_in_use};
use crate::resources::ec2::routing::{prior_outputs, required, unless_gone};
use crate::resources::ec2::{observed_tags, ownership_filter, tag_specification, update_tags};
use crate::resources::{Context, Handler, observed_inputs, outputs, recorded_id};

/// Allocates, retags, reads and releases Elastic IPs.
pub struct EipHandler;

#[async_trait]
impl Handler for EipHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: EipArgs = cx.args()?;
        let domain = args.domain.as_deref().map_or(DomainType::Vpc, DomainType::from);
        let allocated = cx
            .clients
            .ec2
            .allocate_address()
            .domain(domain)
            .tag_specifications(tag_specification(cx, ResourceType::ElasticIp, &args.tags))
            .send()
            .await
            .map_err(|error| sdk_error("allocating the Elastic IP", error))?;
        let id = required(allocated.allocation_id(), "the new address's allocation id")?;
        let public_ip = required(allocated.public_ip(), "the new address's public IP")?;
        Ok(eip_outputs(id, public_ip))
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        let args: EipArgs = cx.args()?;
        let old: EipArgs = cx.prior_args(prior)?;
        update_tags(&cx.clients.ec2, recorded_id(prior)?, &old.tags, &args.tags).await?;
        prior_outputs(prior)
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
        unless_gone(released).map(drop)
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
            ("tags", observed_tags(address.tags())),
        ]);
        Ok(Some(Observed { inputs, outputs: address_outputs(&address)? }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let found = cx
            .clients
            .ec2
            .describe_addresses()
            .filters(ownership_filter(cx))
            .send()
            .await
            .map_err(|error| sdk_error("looking for the Elastic IP by ownership tag", error))?;
        found.addresses().first().map(address_outputs).transpose()
    }
}

fn address_outputs(address: &Address) -> Result<Outputs> {
    let id = required(address.allocation_id(), "the address's allocation id")?;
    let public_ip = required(address.public_ip(), "the address's public IP")?;
    Ok(eip_outputs(id, public_ip))
}

fn eip_outputs(id: &str, public_ip: &str) -> Outputs {
    outputs([("id", json!(id)), ("public_ip", json!(public_ip))])
}
