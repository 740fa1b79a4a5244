//! `aws:ec2/RouteTable` and `aws:ec2/RouteTableAssociation`.

use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, ResourceType, RouteOrigin, RouteTable, RouteTableAssociation};
use cairn_dsl::aws::ec2::{RouteTableArgs, RouteTableAssociationArgs};
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::{Value, json};

use crate::errors::{
    CONSISTENCY_RETRIES, Result, answered, done_when_gone, referenced_not_yet_visible, required,
    retry_consistency, sdk_error, still_in_use, unless_gone,
};
use crate::resources::ec2::{filter, ownership_filter, retag, tag_pairs, tag_specification};
use crate::resources::{Context, Handler, id_outputs, observed_inputs, observed_tags, recorded_id};

const ASSOCIATION: &str = "aws:ec2/RouteTableAssociation";

/// Creates, updates, reads and deletes route tables.
pub struct RouteTableHandler;

#[async_trait]
impl Handler for RouteTableHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: RouteTableArgs = cx.args()?;
        let vpc = required(args.vpc_id.as_deref(), "aws:ec2/RouteTable", "vpc_id")?;
        let created = retry_consistency(
            "creating the route table",
            CONSISTENCY_RETRIES,
            referenced_not_yet_visible,
            || async {
                cx.clients
                    .ec2
                    .create_route_table()
                    .vpc_id(vpc)
                    .tag_specifications(tag_specification(cx, ResourceType::RouteTable, &args.tags))
                    .send()
                    .await
                    .map_err(|error| sdk_error(&format!("creating a route table in {vpc}"), error))
            },
        )
        .await?;
        route_table_outputs(answered(created.route_table(), "the new route table")?)
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        let old: RouteTableArgs = cx.prior_args(prior)?;
        let table = recorded_id(prior)?;
        for route in old.unmanaged_routes.unwrap_or_default() {
            let Some(destination) = route["destination"].as_str() else { continue };
            super::route::delete_route(cx, table, destination).await?;
        }
        retag(cx, prior).await
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let id = recorded_id(prior)?;
        // Its associations may be being removed at the same moment.
        let deleted = retry_consistency(
            "deleting the route table",
            CONSISTENCY_RETRIES,
            still_in_use,
            || async {
                cx.clients
                    .ec2
                    .delete_route_table()
                    .route_table_id(id)
                    .send()
                    .await
                    .map_err(|error| sdk_error(&format!("deleting route table {id}"), error))
            },
        )
        .await;
        done_when_gone(deleted)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let Some(table) = describe_route_table(cx, recorded_id(prior)?).await? else {
            return Ok(None);
        };
        let args: RouteTableArgs = cx.prior_args(prior)?;
        let declared = args.declared_routes.unwrap_or_default();
        let inputs = observed_inputs([
            ("vpc_id", table.vpc_id().map(|vpc| json!(vpc))),
            ("unmanaged_routes", Some(Value::Array(unmanaged_routes(&table, &declared)))),
            ("tags", observed_tags(tag_pairs(table.tags()))),
        ]);
        Ok(Some(Observed { inputs, outputs: route_table_outputs(&table)? }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let found = cx
            .clients
            .ec2
            .describe_route_tables()
            .filters(ownership_filter(cx))
            .send()
            .await
            .map_err(|error| sdk_error("looking for the route table by ownership tag", error))?;
        let unreplaced = |table: &&RouteTable| !cx.is_replaced(table.route_table_id());
        found.route_tables().iter().find(unreplaced).map(route_table_outputs).transpose()
    }
}

/// The route table `id`, or `None` when it does not exist.
pub async fn describe_route_table(cx: &Context<'_>, id: &str) -> Result<Option<RouteTable>> {
    let found = cx
        .clients
        .ec2
        .describe_route_tables()
        .route_table_ids(id)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading route table {id}"), error));
    Ok(unless_gone(found)?.and_then(|found| found.route_tables().first().cloned()))
}

fn route_table_outputs(table: &RouteTable) -> Result<Outputs> {
    answered(table.route_table_id(), "the route table's id").map(id_outputs)
}

/// Creates, reads and deletes the associations of route tables with subnets. Both inputs
/// force replacement, so there is no update.
pub struct AssociationHandler;

#[async_trait]
impl Handler for AssociationHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: RouteTableAssociationArgs = cx.args()?;
        let (table, subnet) = association_ends(&args)?;
        let associated = retry_consistency(
            "associating the route table",
            CONSISTENCY_RETRIES,
            referenced_not_yet_visible,
            || async {
                cx.clients
                    .ec2
                    .associate_route_table()
                    .route_table_id(table)
                    .subnet_id(subnet)
                    .send()
                    .await
                    .map_err(|error| {
                        sdk_error(&format!("associating route table {table} with {subnet}"), error)
                    })
            },
        )
        .await?;
        let id = answered(associated.association_id(), "the association's id")?;
        Ok(id_outputs(id))
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let id = recorded_id(prior)?;
        let removed = cx
            .clients
            .ec2
            .disassociate_route_table()
            .association_id(id)
            .send()
            .await
            .map_err(|error| sdk_error(&format!("removing association {id}"), error));
        done_when_gone(removed)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let id = recorded_id(prior)?;
        let by_id = filter("association.route-table-association-id", id);
        let found = find_association(cx, by_id, |association| {
            association.route_table_association_id() == Some(id)
        })
        .await?;
        let Some(association) = found else { return Ok(None) };
        let inputs = observed_inputs([
            ("route_table_id", association.route_table_id().map(|table| json!(table))),
            ("subnet_id", association.subnet_id().map(|subnet| json!(subnet))),
        ]);
        Ok(Some(Observed { inputs, outputs: id_outputs(id) }))
    }

    /// An association cannot be tagged: it is the one of the route table with the subnet.
    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: RouteTableAssociationArgs = cx.args()?;
        let (table, subnet) = association_ends(&args)?;
        let of_subnet = filter("association.subnet-id", subnet);
        let found = find_association(cx, of_subnet, |association| {
            association.route_table_id() == Some(table) && association.subnet_id() == Some(subnet)
        })
        .await?;
        let id = found.as_ref().and_then(RouteTableAssociation::route_table_association_id);
        Ok(id.map(id_outputs))
    }
}

/// The route table and the subnet an association joins.
fn association_ends(args: &RouteTableAssociationArgs) -> Result<(&str, &str)> {
    let table = required(args.route_table_id.as_deref(), ASSOCIATION, "route_table_id")?;
    let subnet = required(args.subnet_id.as_deref(), ASSOCIATION, "subnet_id")?;
    Ok((table, subnet))
}

/// The first association that `matches`, among the route tables `narrowed` selects.
async fn find_association(
    cx: &Context<'_>,
    narrowed: Filter,
    matches: impl Fn(&RouteTableAssociation) -> bool,
) -> Result<Option<RouteTableAssociation>> {
    let found = cx
        .clients
        .ec2
        .describe_route_tables()
        .filters(narrowed)
        .send()
        .await
        .map_err(|error| sdk_error("looking for a route table association", error))?;
    Ok(found
        .route_tables()
        .iter()
        .flat_map(RouteTable::associations)
        .find(|association| matches(association))
        .cloned())
}

/// The IPv4 routes of `table` that `declared` does not name, as `{destination, target}`: the
/// local route, routes an endpoint or a propagation owns, and routes to prefix lists (which
/// gateway endpoints add) are left out.
fn unmanaged_routes(table: &RouteTable, declared: &[String]) -> Vec<Value> {
    let mut found: Vec<Value> = table
        .routes()
        .iter()
        .filter(|route| {
            route.origin() == Some(&RouteOrigin::CreateRoute) || route.origin().is_none()
        })
        .filter(|route| {
            let gateway = route.gateway_id().unwrap_or_default();
            gateway != "local" && !gateway.starts_with("vpce-")
        })
        .filter_map(|route| {
            let destination = route.destination_cidr_block()?;
            if declared.iter().any(|known| known == destination) {
                return None;
            }
            let target = route
                .vpc_peering_connection_id()
                .or(route.nat_gateway_id())
                .or(route.gateway_id())
                .or(route.transit_gateway_id())
                .or(route.network_interface_id());
            Some(json!({"destination": destination, "target": target}))
        })
        .collect();
    found.sort_by(|a, b| a["destination"].as_str().cmp(&b["destination"].as_str()));
    found
}
