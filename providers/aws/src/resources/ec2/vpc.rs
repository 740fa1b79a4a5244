//! `aws:ec2/Vpc`.

use async_trait::async_trait;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, VpcAttributeName};
use cairn_dsl::aws::ec2::VpcArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use super::{filter, once, ownership_filter, tag_pairs, tag_specification, update_tags};
use crate::errors::{
    CONSISTENCY_RETRIES, Result, done_when_gone, referenced_not_yet_visible, required,
    retry_consistency, sdk_error, still_in_use, unless_gone,
};
use crate::resources::{
    Context, Handler, create_unless_made, observed_inputs, observed_tags, outputs, recorded_id,
};

/// Creates, updates, reads and deletes VPCs.
pub struct VpcHandler;

#[async_trait]
impl Handler for VpcHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: VpcArgs = cx.args()?;
        let cidr = required(args.cidr_block.as_deref(), "aws:ec2/Vpc", "cidr_block")?;
        let create = || async {
            let created = cx
                .clients
                .ec2
                .create_vpc()
                .cidr_block(cidr)
                .tag_specifications(tag_specification(cx, ResourceType::Vpc, &args.tags))
                .customize()
                .config_override(once())
                .send()
                .await
                .map_err(|error| sdk_error("creating the VPC", error))?;
            Ok(created.vpc().and_then(|vpc| vpc.vpc_id()).unwrap_or_default().to_owned())
        };
        let id = create_unless_made(cx, create, || owned_vpc(cx)).await?;
        set_dns_attributes(cx, &id, &args, &VpcArgs::default()).await?;
        vpc_outputs(cx, &id).await
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        let args: VpcArgs = cx.args()?;
        let old: VpcArgs = cx.prior_args(prior)?;
        let id = recorded_id(prior)?;
        set_dns_attributes(cx, id, &args, &old).await?;
        update_tags(&cx.clients.ec2, id, &old.tags, &args.tags).await?;
        vpc_outputs(cx, id).await
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let id = recorded_id(prior)?;
        let deleted =
            retry_consistency("deleting the VPC", CONSISTENCY_RETRIES, still_in_use, || async {
                cx.clients
                    .ec2
                    .delete_vpc()
                    .vpc_id(id)
                    .send()
                    .await
                    .map_err(|error| sdk_error(&format!("deleting VPC {id}"), error))
            })
            .await;
        done_when_gone(deleted)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let id = recorded_id(prior)?;
        let found = cx.clients.ec2.describe_vpcs().vpc_ids(id).send().await;
        let found = found.map_err(|error| sdk_error(&format!("reading VPC {id}"), error));
        let Some(vpc) = unless_gone(found)?.and_then(|found| found.vpcs().first().cloned()) else {
            return Ok(None);
        };
        let inputs = observed_inputs([
            ("cidr_block", vpc.cidr_block().map(|cidr| json!(cidr))),
            (
                "enable_dns_support",
                Some(json!(dns_attribute(cx, id, VpcAttributeName::EnableDnsSupport).await?)),
            ),
            (
                "enable_dns_hostnames",
                Some(json!(dns_attribute(cx, id, VpcAttributeName::EnableDnsHostnames).await?)),
            ),
            ("tags", observed_tags(tag_pairs(vpc.tags()))),
        ]);
        Ok(Some(Observed { inputs, outputs: vpc_outputs(cx, id).await? }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        match owned_vpc(cx).await? {
            Some(id) => vpc_outputs(cx, &id).await.map(Some),
            None => Ok(None),
        }
    }
}

/// Sets the DNS attributes that differ from `old` (AWS takes one attribute per call).
async fn set_dns_attributes(
    cx: &Context<'_>,
    id: &str,
    args: &VpcArgs,
    old: &VpcArgs,
) -> Result<()> {
    let wanted = [
        (VpcAttributeName::EnableDnsSupport, args.enable_dns_support, old.enable_dns_support),
        (VpcAttributeName::EnableDnsHostnames, args.enable_dns_hostnames, old.enable_dns_hostnames),
    ];
    for (attribute, value, before) in wanted {
        let Some(value) = value.filter(|value| Some(*value) != before) else { continue };
        retry_consistency(
            "setting a VPC DNS attribute",
            CONSISTENCY_RETRIES,
            referenced_not_yet_visible,
            || {
                let attribute = attribute.clone();
                async move {
                    let flag = AttributeBooleanValue::builder().value(value).build();
                    let call = cx.clients.ec2.modify_vpc_attribute().vpc_id(id);
                    let call = match attribute {
                        VpcAttributeName::EnableDnsHostnames => call.enable_dns_hostnames(flag),
                        _ => call.enable_dns_support(flag),
                    };
                    call.send()
                        .await
                        .map_err(|error| sdk_error(&format!("setting {attribute} on {id}"), error))
                }
            },
        )
        .await?;
    }
    Ok(())
}

async fn dns_attribute(cx: &Context<'_>, id: &str, attribute: VpcAttributeName) -> Result<bool> {
    let found = cx
        .clients
        .ec2
        .describe_vpc_attribute()
        .vpc_id(id)
        .attribute(attribute.clone())
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading {attribute} of {id}"), error))?;
    let value = match attribute {
        VpcAttributeName::EnableDnsHostnames => found.enable_dns_hostnames(),
        _ => found.enable_dns_support(),
    };
    Ok(value.and_then(|flag| flag.value()).unwrap_or(false))
}

/// The VPC's outputs: id, ARN, owner and main route table.
async fn vpc_outputs(cx: &Context<'_>, id: &str) -> Result<Outputs> {
    let tables = retry_consistency(
        "reading the main route table",
        CONSISTENCY_RETRIES,
        referenced_not_yet_visible,
        || async {
            cx.clients
                .ec2
                .describe_route_tables()
                .filters(filter("vpc-id", id))
                .filters(filter("association.main", "true"))
                .send()
                .await
                .map_err(|error| sdk_error(&format!("reading the main route table of {id}"), error))
        },
    )
    .await?;
    let main_table = tables.route_tables().first().and_then(|table| table.route_table_id());
    Ok(outputs([
        ("id", json!(id)),
        ("arn", json!(format!("arn:aws:ec2:{}:{}:vpc/{id}", cx.region(), cx.account()))),
        ("owner_id", json!(cx.account())),
        ("main_route_table_id", json!(main_table)),
    ]))
}

/// The id of the VPC carrying this URN's ownership tag (not the one it replaces), if any.
async fn owned_vpc(cx: &Context<'_>) -> Result<Option<String>> {
    let found = cx
        .clients
        .ec2
        .describe_vpcs()
        .filters(ownership_filter(cx))
        .send()
        .await
        .map_err(|error| sdk_error("looking for the VPC by ownership tag", error))?;
    let ids = found.vpcs().iter().filter_map(|vpc| vpc.vpc_id());
    Ok(ids.filter(|id| !cx.is_replaced(Some(id))).map(str::to_owned).next())
}
