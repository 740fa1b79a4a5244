//! `aws:ec2/VpcPeeringConnectionAccepter`: accepting from the accepter's side.

use async_trait::async_trait;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::Tag;
use cairn_dsl::aws::ec2::VpcPeeringConnectionAccepterArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use super::{connection_outputs, current_outputs, live_connection, status_of, wait_for_status};
use crate::errors::{
    CONSISTENCY_RETRIES, Result, iam_not_yet_propagated, referenced_not_yet_visible, required,
    retry_consistency, sdk_error,
};
use crate::resources::ec2::{ec2_tags, filter, tag_pairs, update_tags};
use crate::resources::{Context, Handler, observed_inputs, observed_tags, owned_by, recorded_id};

/// Accepts peering connections from the accepter's side.
pub struct AccepterHandler;

const ACCEPTER: &str = "aws:ec2/VpcPeeringConnectionAccepter";

#[async_trait]
impl Handler for AccepterHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: VpcPeeringConnectionAccepterArgs = cx.args()?;
        let id = connection_id(&args)?;
        let ec2 = &accepter_client(cx, &args).await;
        // Tag first: should the run stop after the accept, the tag finds it again.
        retry_consistency(
            "tagging the peering connection",
            CONSISTENCY_RETRIES,
            referenced_not_yet_visible,
            || async {
                ec2.create_tags()
                    .resources(id)
                    .set_tags(Some(ec2_tags(&cx.tags_with_ownership(&args.tags))))
                    .send()
                    .await
                    .map_err(|error| sdk_error(&format!("tagging peering connection {id}"), error))
            },
        )
        .await?;
        let status =
            wait_for_status(ec2, id, "the peering request to reach the accepter", |status| {
                matches!(status, "pending-acceptance" | "active")
            })
            .await?;
        if status == "pending-acceptance" {
            accept(ec2, &args, id).await?;
        }
        let status =
            wait_for_status(ec2, id, "the peering connection to become active", |status| {
                status == "active"
            })
            .await?;
        Ok(connection_outputs(id, &status))
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        let args: VpcPeeringConnectionAccepterArgs = cx.args()?;
        let old: VpcPeeringConnectionAccepterArgs = cx.prior_args(prior)?;
        let id = recorded_id(prior)?;
        let ec2 = accepter_client(cx, &args).await;
        update_tags(&ec2, id, &old.tags, &args.tags).await?;
        current_outputs(&ec2, id).await
    }

    async fn delete(&self, _cx: &Context<'_>, _prior: &RecordedResource) -> Result<()> {
        // An acceptance cannot be undone; the requester's delete removes the connection.
        Ok(())
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let id = recorded_id(prior)?;
        let ec2 = accepter_client(cx, &cx.prior_args(prior)?).await;
        let Some(connection) = live_connection(&ec2, id).await? else {
            return Ok(None);
        };
        let inputs = observed_inputs([
            ("vpc_peering_connection_id", Some(json!(id))),
            ("tags", observed_tags(tag_pairs(&accepter_tags(&ec2, id).await?))),
        ]);
        Ok(Some(Observed { inputs, outputs: connection_outputs(id, status_of(&connection)) }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: VpcPeeringConnectionAccepterArgs = cx.args()?;
        let id = connection_id(&args)?;
        let ec2 = accepter_client(cx, &args).await;
        if !owned_by(tag_pairs(&accepter_tags(&ec2, id).await?), cx.urn()) {
            return Ok(None);
        }
        // Tagged but not yet accepted: the create did not finish; let it run again.
        let connection = live_connection(&ec2, id).await?;
        Ok(connection
            .filter(|connection| status_of(connection) == "active")
            .map(|connection| connection_outputs(id, status_of(&connection))))
    }
}

/// The connection the accepter accepts.
fn connection_id(args: &VpcPeeringConnectionAccepterArgs) -> Result<&str> {
    required(args.vpc_peering_connection_id.as_deref(), ACCEPTER, "vpc_peering_connection_id")
}

/// Accepts connection `id` with `client`, the accepter role's when the arguments name one
/// (the role may be new: IAM propagation is retried).
async fn accept(client: &Client, args: &VpcPeeringConnectionAccepterArgs, id: &str) -> Result<()> {
    let not_yet: fn(&str) -> bool = match args.accepter_role_arn {
        Some(_) => iam_not_yet_propagated,
        None => referenced_not_yet_visible,
    };
    retry_consistency("accepting the peering connection", CONSISTENCY_RETRIES, not_yet, || async {
        client
            .accept_vpc_peering_connection()
            .vpc_peering_connection_id(id)
            .send()
            .await
            .map_err(|error| sdk_error(&format!("accepting peering connection {id}"), error))
    })
    .await
    .map(drop)
}

/// The client the accepter acts with: the accepter role's, assumed with this binding's
/// credentials, when the arguments name one (every call, tags included, then acts in the
/// accepter's account); the binding's own otherwise.
async fn accepter_client(cx: &Context<'_>, args: &VpcPeeringConnectionAccepterArgs) -> Client {
    match &args.accepter_role_arn {
        Some(role_arn) => cx.clients.ec2_as_role(role_arn, args.external_id.as_deref()).await,
        None => cx.clients.ec2.clone(),
    }
}

/// The tags the accepter's account put on connection `id`.
async fn accepter_tags(ec2: &Client, id: &str) -> Result<Vec<Tag>> {
    // moto gap: describe_vpc_peering_connections shows the requester's tags to the accepter
    // too; AWS shows each account its own. describe_tags answers per account on both.
    let found = ec2
        .describe_tags()
        .filters(filter("resource-id", id))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|error| sdk_error(&format!("reading the tags of {id}"), error))?;
    Ok(found
        .iter()
        .map(|tag| {
            Tag::builder()
                .set_key(tag.key().map(str::to_owned))
                .set_value(tag.value().map(str::to_owned))
                .build()
        })
        .collect())
}
