//! `aws:ec2/Route`: one route of a route table, to a peering connection, a NAT gateway or
//! an internet gateway. Routes cannot be tagged: a route is known by its route table and
//! destination, and its id is `<route_table_id>_<destination_cidr_block>`.

use async_trait::async_trait;
use aws_sdk_ec2::types::Route;
use cairn_dsl::aws::ec2::RouteArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use super::route_table::describe_route_table;
use crate::errors::{
    CONSISTENCY_RETRIES, Result, done_when_gone, referenced_not_yet_visible, required,
    retry_consistency, sdk_error,
};
use crate::resources::{Context, Handler, observed_inputs, outputs};

const ROUTE: &str = "aws:ec2/Route";

/// Creates, retargets, reads and deletes routes.
pub struct RouteHandler;

#[async_trait]
impl Handler for RouteHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        put_route(cx, Put::Create).await
    }

    /// Only the target can change in place (the rest forces a replacement).
    async fn update(&self, cx: &Context<'_>, _prior: &RecordedResource) -> Result<Outputs> {
        put_route(cx, Put::Retarget).await
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let args: RouteArgs = cx.prior_args(prior)?;
        let (table, destination) = route_key(&args)?;
        delete_route(cx, table, destination).await
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

/// Whether a put makes the route or points the existing one at another target.
#[derive(Clone, Copy)]
enum Put {
    /// A new route.
    Create,
    /// A new target for the route.
    Retarget,
}

/// Sends a create or replace route call for `$args` (the two take the same fields), `$doing`
/// naming it in the error.
macro_rules! send_route {
    ($call:expr, $table:expr, $destination:expr, $args:expr, $doing:expr) => {
        $call
            .route_table_id($table)
            .destination_cidr_block($destination)
            .set_vpc_peering_connection_id($args.vpc_peering_connection_id.clone())
            .set_nat_gateway_id($args.nat_gateway_id.clone())
            .set_gateway_id($args.gateway_id.clone())
            .send()
            .await
            .map(drop)
            .map_err(|error| {
                let doing = format!("{} the route to {} in {}", $doing, $destination, $table);
                sdk_error(&doing, error)
            })
    };
}

/// Creates the requested route, or points it at the requested target. The target (a peering
/// connection, a NAT gateway) may have been created a moment ago.
async fn put_route(cx: &Context<'_>, put: Put) -> Result<Outputs> {
    let args: RouteArgs = cx.args()?;
    let (table, destination) = route_key(&args)?;
    let doing = match put {
        Put::Create => "creating",
        Put::Retarget => "retargeting",
    };
    let ec2 = &cx.clients.ec2;
    retry_consistency(
        &format!("{doing} the route"),
        CONSISTENCY_RETRIES,
        referenced_not_yet_visible,
        || async {
            match put {
                Put::Create => send_route!(ec2.create_route(), table, destination, args, doing),
                Put::Retarget => send_route!(ec2.replace_route(), table, destination, args, doing),
            }
        },
    )
    .await?;
    Ok(route_outputs(table, destination))
}

/// The route table and destination that identify a route.
fn route_key(args: &RouteArgs) -> Result<(&str, &str)> {
    let table = required(args.route_table_id.as_deref(), ROUTE, "route_table_id")?;
    let destination =
        required(args.destination_cidr_block.as_deref(), ROUTE, "destination_cidr_block")?;
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

/// Deletes the route to `destination` from `table`; gone already is fine.
pub(super) async fn delete_route(cx: &Context<'_>, table: &str, destination: &str) -> Result<()> {
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
    done_when_gone(deleted)
}
