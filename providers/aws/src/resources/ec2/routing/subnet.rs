//! `aws:ec2/Subnet`.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, Subnet};
use cairn_dsl::aws::ec2::SubnetArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use crate::errors::{
    CONSISTENCY_RETRIES, Patience, Result, answered, done_when_gone, referenced_not_yet_visible,
    required, retry_consistency, sdk_error, still_in_use, unless_gone, wait_until,
};
use crate::resources::ec2::{once, ownership_filter, tag_pairs, tag_specification, update_tags};
use crate::resources::{
    Context, Handler, create_unless_made, observed_inputs, observed_tags, outputs, prior_outputs,
    recorded_id,
};

const SUBNET: &str = "aws:ec2/Subnet";

/// Subnets become `available` within seconds.
const SUBNET_PATIENCE: Patience = Patience::up_to(Duration::from_secs(120), Duration::from_secs(1));

/// Creates, updates, reads and deletes subnets.
pub struct SubnetHandler;

#[async_trait]
impl Handler for SubnetHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: SubnetArgs = cx.args()?;
        let vpc = required(args.vpc_id.as_deref(), SUBNET, "vpc_id")?;
        let cidr = required(args.cidr_block.as_deref(), SUBNET, "cidr_block")?;
        let create = || {
            retry_consistency(
                "creating the subnet",
                CONSISTENCY_RETRIES,
                referenced_not_yet_visible,
                || async {
                    let created = cx
                        .clients
                        .ec2
                        .create_subnet()
                        .vpc_id(vpc)
                        .cidr_block(cidr)
                        .set_availability_zone(args.availability_zone.clone())
                        .tag_specifications(tag_specification(cx, ResourceType::Subnet, &args.tags))
                        .customize()
                        .config_override(once())
                        .send()
                        .await
                        .map_err(|error| {
                            sdk_error(&format!("creating a subnet in {vpc}"), error)
                        })?;
                    answered(created.subnet(), "the new subnet").cloned()
                },
            )
        };
        let subnet = create_unless_made(cx, create, || owned_subnet(cx)).await?;
        let subnet = &subnet;
        let id = answered(subnet.subnet_id(), "the new subnet's id")?;
        wait_until("the subnet to be available", SUBNET_PATIENCE, || async {
            Ok(subnet_state(cx, id).await?.as_deref() == Some("available"))
        })
        .await?;
        set_map_public_ip(cx, id, args.map_public_ip_on_launch, None).await?;
        subnet_outputs(subnet)
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        let args: SubnetArgs = cx.args()?;
        let old: SubnetArgs = cx.prior_args(prior)?;
        let id = recorded_id(prior)?;
        set_map_public_ip(cx, id, args.map_public_ip_on_launch, old.map_public_ip_on_launch)
            .await?;
        update_tags(&cx.clients.ec2, id, &old.tags, &args.tags).await?;
        prior_outputs(prior)
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let id = recorded_id(prior)?;
        // A NAT gateway or endpoint deleted a moment ago may still hold a network interface.
        let deleted =
            retry_consistency("deleting the subnet", CONSISTENCY_RETRIES, still_in_use, || async {
                cx.clients
                    .ec2
                    .delete_subnet()
                    .subnet_id(id)
                    .send()
                    .await
                    .map_err(|error| sdk_error(&format!("deleting subnet {id}"), error))
            })
            .await;
        done_when_gone(deleted)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let Some(subnet) = describe_subnet(cx, recorded_id(prior)?).await? else { return Ok(None) };
        let inputs = observed_inputs([
            ("vpc_id", subnet.vpc_id().map(|vpc| json!(vpc))),
            ("cidr_block", subnet.cidr_block().map(|cidr| json!(cidr))),
            ("availability_zone", subnet.availability_zone().map(|zone| json!(zone))),
            (
                "map_public_ip_on_launch",
                Some(json!(subnet.map_public_ip_on_launch() == Some(true))),
            ),
            ("tags", observed_tags(tag_pairs(subnet.tags()))),
        ]);
        Ok(Some(Observed { inputs, outputs: subnet_outputs(&subnet)? }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        owned_subnet(cx).await?.as_ref().map(subnet_outputs).transpose()
    }
}

/// The subnet `id`, or `None` when it does not exist.
async fn describe_subnet(cx: &Context<'_>, id: &str) -> Result<Option<Subnet>> {
    let found = cx
        .clients
        .ec2
        .describe_subnets()
        .subnet_ids(id)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading subnet {id}"), error));
    Ok(unless_gone(found)?.and_then(|found| found.subnets().first().cloned()))
}

/// The subnet's state in lower case (`pending`, `available`), `None` when it is not visible.
async fn subnet_state(cx: &Context<'_>, id: &str) -> Result<Option<String>> {
    let subnet = describe_subnet(cx, id).await?;
    Ok(subnet.and_then(|subnet| subnet.state().map(|state| state.as_str().to_ascii_lowercase())))
}

/// Sets whether instances get a public IP at launch, when it differs from `before` (false
/// when unset, as AWS has it).
async fn set_map_public_ip(
    cx: &Context<'_>,
    id: &str,
    wanted: Option<bool>,
    before: Option<bool>,
) -> Result<()> {
    let wanted = wanted.unwrap_or(false);
    if wanted == before.unwrap_or(false) {
        return Ok(());
    }
    cx.clients
        .ec2
        .modify_subnet_attribute()
        .subnet_id(id)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(wanted).build())
        .send()
        .await
        .map_err(|error| sdk_error(&format!("setting map_public_ip_on_launch on {id}"), error))?;
    Ok(())
}

/// The subnet's outputs: id and ARN.
fn subnet_outputs(subnet: &Subnet) -> Result<Outputs> {
    Ok(outputs([
        ("id", json!(answered(subnet.subnet_id(), "the subnet's id")?)),
        ("arn", json!(answered(subnet.subnet_arn(), "the subnet's ARN")?)),
    ]))
}

/// The subnet carrying this URN's ownership tag, if any.
async fn owned_subnet(cx: &Context<'_>) -> Result<Option<Subnet>> {
    let found = cx
        .clients
        .ec2
        .describe_subnets()
        .filters(ownership_filter(cx))
        .send()
        .await
        .map_err(|error| sdk_error("looking for the subnet by ownership tag", error))?;
    Ok(found.subnets().first().cloned())
}
