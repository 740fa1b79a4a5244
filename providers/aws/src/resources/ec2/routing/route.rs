//! `aws:ec2/Route`: one route of a route table, to a peering connection, a NAT gateway or
//! an internet gateway. Routes cannot be tagged: a route is known by its route table and
//! destination, and its id is `<route_table_id>_<destination_cidr_block>`.

use async_trait::async_trait;
use aws_sdk_ec2::types::Route;
use cairn_dsl::aws::ec2::RouteArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use super::route_table::describe_route_table;
use super::unless_gone;
use crate::errors::{
    CONSISTENCY_RETRIES, Result, missing, referenced_not_yet_visible, retry_consistency, sdk_error,
};
use crate::resources::{Context, Handler, observed_inputs, outputs};

const ROUTE: &str = "aws:ec2/Route";

/// Creates, retargets, reads and deletes routes.
pub struct RouteHandler;

#[async_trait]
impl Handler for RouteHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: RouteArgs = cx.args()?;
        let (table, destination) = route_key(&args)?;
        // The target (a peering connection, a NAT gateway) may have been created a moment ago.
        retry_consistency(
            "creating the route",
            CONSISTENCY_RETRIES,
            referenced_not_yet_visible,
            || async {
                cx.clients
                    .ec2
                    .create_route()
                    .route_table_id(table)
                    .destination_cidr_block(destination)
                    .set_vpc_peering_connection_id(args.vpc_peering_connection_id.clone())
                    .set_nat_gateway_id(args.nat_gateway_id.clone())
                    .set_gateway_id(args.gateway_id.clone())
                    .send()
                    .await
                    .map_err(|error| {
                        sdk_error(&format!("creating the route to {destination} in {table}"), error)
                    })
            },
        )
        .await?;
        Ok(route_outputs(table, destination))
    }

    /// Only the target can change in place (the rest forces a replacement).
    async fn update(&self, cx: &Context<'_>, _prior: &RecordedResource) -> Result<Outputs> {
        let args: RouteArgs = cx.args()?;
        let (table, destination) = route_key(&args)?;
        retry_consistency(
            "retargeting the route",
            CONSISTENCY_RETRIES,
            referenced_not_yet_visible,
            || async {
                cx.clients
                    .ec2
                    .replace_route()
                    .route_table_id(table)
                    .destination_cidr_block(destination)
                    .set_vpc_peering_connection_id(args.vpc_peering_connection_id.clone())
                    .set_nat_gateway_id(args.nat_gateway_id.clone())
                    .set_gateway_id(args.gateway_id.clone())
                    .send()
                    .await
                    .map_err(|error| {
                        sdk_error(
                            &format!("retargeting the route to {destination} in {table}"),
                            error,
                        )
                    })
            },
        )
        .await?;
        Ok(route_outputs(table, destination))
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let args: RouteArgs = cx.prior_args(prior)?;
        let (table, destination) = route_key(&args)?;
        let deleted = cx
            .clients
            .ec2
            .delete_route()
            .route_table_id(table)
            .destination_cidr_block(destination)
            .send()
            .await
            .map_err(|error| {
                sdk_error(&format!("deleting the route to {destination} in {table}"), error)
            });
        unless_gone(deleted).map(drop)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let args: RouteArgs = cx.prior_args(prior)?;
        let (table, destination) = route_key(&args)?;
        let Some(route) = find_route(cx, table, destination).await? else { return Ok(None) };
        let inputs = observed_inputs([
            ("route_table_id", Some(json!(table))),
            ("destination_cidr_block", Some(json!(destination))),
            ("vpc_peering_connection_id", route.vpc_peering_connection_id().map(|id| json!(id))),
            ("nat_gateway_id", route.nat_gateway_id().map(|id| json!(id))),
            ("gateway_id", route.gateway_id().map(|id| json!(id))),
        ]);
        Ok(Some(Observed { inputs, outputs: route_outputs(table, destination) }))
    }

    /// A route cannot be tagged: it is the route table's route to the destination.
    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: RouteArgs = cx.args()?;
        let (table, destination) = route_key(&args)?;
        let found = find_route(cx, table, destination).await?;
        Ok(found.map(|_| route_outputs(table, destination)))
    }
}

/// The route table and destination that identify a route.
fn route_key(args: &RouteArgs) -> Result<(&str, &str)> {
    let table = args.route_table_id.as_deref().ok_or_else(|| missing(ROUTE, "route_table_id"))?;
    let destination = args
        .destination_cidr_block
        .as_deref()
        .ok_or_else(|| missing(ROUTE, "destination_cidr_block"))?;
    Ok((table, destination))
}

/// The route of `table` to `destination`, `None` when it (or the table) does not exist.
async fn find_route(cx: &Context<'_>, table: &str, destination: &str) -> Result<Option<Route>> {
    let found = describe_route_table(cx, table).await?;
    Ok(found.and_then(|table| {
        table
            .routes()
            .iter()
            .find(|route| route.destination_cidr_block() == Some(destination))
            .cloned()
    }))
}

fn route_outputs(table: &str, destination: &str) -> Outputs {
    outputs([("id", json!(format!("{table}_{destination}")))])
}
