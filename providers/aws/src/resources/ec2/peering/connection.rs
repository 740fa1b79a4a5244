//! `aws:ec2/VpcPeeringConnection`: the requester's side.

use async_trait::async_trait;
use aws_sdk_ec2::types::{ResourceType, VpcPeeringConnection};
use cairn_dsl::aws::ec2::VpcPeeringConnectionArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use super::{
    GONE, TRANSIENT, connection_outputs, current_outputs, live_connection, status_of,
    wait_for_status,
};
use crate::errors::{
    CONSISTENCY_RETRIES, Result, answered, done_when_gone, referenced_not_yet_visible, required,
    retry_consistency, sdk_error,
};
use crate::resources::ec2::{once, ownership_filter, tag_pairs, tag_specification, update_tags};
use crate::resources::{
    Context, Handler, create_unless_made, observed_inputs, observed_tags, owned_by, recorded_id,
};

/// Requests VPC peering connections, and deletes them.
pub struct ConnectionHandler;

const CONNECTION: &str = "aws:ec2/VpcPeeringConnection";

#[async_trait]
impl Handler for ConnectionHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: VpcPeeringConnectionArgs = cx.args()?;
        let vpc = required(args.vpc_id.as_deref(), CONNECTION, "vpc_id")?;
        let peer_vpc = required(args.peer_vpc_id.as_deref(), CONNECTION, "peer_vpc_id")?;
        // AWS defaults both to the requester's; moto needs both said, or it cannot find the
        // peer VPC (InvalidVpcID.NotFound). Saying them works on both.
        let peer_owner = args.peer_owner_id.as_deref().unwrap_or(cx.account());
        let peer_region = args.peer_region.as_deref().unwrap_or(cx.region());
        let create = || {
            retry_consistency(
                "requesting the peering connection",
                CONSISTENCY_RETRIES,
                referenced_not_yet_visible,
                || async {
                    let created = cx
                        .clients
                        .ec2
                        .create_vpc_peering_connection()
                        .vpc_id(vpc)
                        .peer_vpc_id(peer_vpc)
                        .peer_owner_id(peer_owner)
                        .peer_region(peer_region)
                        .tag_specifications(tag_specification(
                            cx,
                            ResourceType::VpcPeeringConnection,
                            &args.tags,
                        ))
                        .customize()
                        .config_override(once())
                        .send()
                        .await
                        .map_err(|error| {
                            sdk_error(
                                &format!("requesting peering from {vpc} to {peer_vpc}"),
                                error,
                            )
                        })?;
                    let id = created
                        .vpc_peering_connection()
                        .and_then(|connection| connection.vpc_peering_connection_id());
                    answered(id, "the new peering connection's id").map(str::to_owned)
                },
            )
        };
        let found = || async {
            let owned = owned_connection(cx).await?;
            Ok(owned
                .and_then(|connection| connection.vpc_peering_connection_id().map(str::to_owned)))
        };
        let id = create_unless_made(cx, create, found).await?;
        let id = id.as_str();
        let status =
            wait_for_status(&cx.clients.ec2, id, "the peering request to settle", |status| {
                !TRANSIENT.contains(&status)
            })
            .await?;
        Ok(connection_outputs(id, &status))
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        let args: VpcPeeringConnectionArgs = cx.args()?;
        let old: VpcPeeringConnectionArgs = cx.prior_args(prior)?;
        let id = recorded_id(prior)?;
        update_tags(&cx.clients.ec2, id, &old.tags, &args.tags).await?;
        current_outputs(&cx.clients.ec2, id).await
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let id = recorded_id(prior)?;
        if live_connection(&cx.clients.ec2, id).await?.is_none() {
            return Ok(());
        }
        let deleted = cx
            .clients
            .ec2
            .delete_vpc_peering_connection()
            .vpc_peering_connection_id(id)
            .send()
            .await
            .map_err(|error| sdk_error(&format!("deleting peering connection {id}"), error));
        done_when_gone(deleted)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let id = recorded_id(prior)?;
        let Some(connection) = live_connection(&cx.clients.ec2, id).await? else {
            return Ok(None);
        };
        let requester = connection.requester_vpc_info();
        let accepter = connection.accepter_vpc_info();
        let inputs = observed_inputs([
            ("vpc_id", requester.and_then(|info| info.vpc_id()).map(|vpc| json!(vpc))),
            ("peer_vpc_id", accepter.and_then(|info| info.vpc_id()).map(|vpc| json!(vpc))),
            ("peer_owner_id", accepter.and_then(|info| info.owner_id()).map(|owner| json!(owner))),
            ("peer_region", accepter.and_then(|info| info.region()).map(|region| json!(region))),
            ("tags", observed_tags(tag_pairs(connection.tags()))),
        ]);
        Ok(Some(Observed { inputs, outputs: connection_outputs(id, status_of(&connection)) }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let owned = owned_connection(cx).await?;
        Ok(owned.and_then(|connection| {
            let id = connection.vpc_peering_connection_id()?;
            Some(connection_outputs(id, status_of(&connection)))
        }))
    }
}

/// The live peering connection carrying this URN's ownership tag, if any.
async fn owned_connection(cx: &Context<'_>) -> Result<Option<VpcPeeringConnection>> {
    // moto gap: describe_vpc_peering_connections ignores every filter and lists all the
    // account's connections; AWS honours the tag filter. Filtering again here serves both.
    let listed: Vec<VpcPeeringConnection> = cx
        .clients
        .ec2
        .describe_vpc_peering_connections()
        .filters(ownership_filter(cx))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|error| sdk_error("looking for the peering connection by ownership tag", error))?;
    Ok(listed.into_iter().find(|connection| {
        !GONE.contains(&status_of(connection)) && owned_by(tag_pairs(connection.tags()), cx.urn())
    }))
}
