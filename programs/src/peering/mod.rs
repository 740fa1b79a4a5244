//! Secure cross-account VPC peering between a trading VPC (account A) and an analytics VPC
//! (account B). See `../shared/DESIGN.md` section 6 for the customer's specification.
//!
//! This version declares both VPCs with DNS support, their private subnets in three
//! availability zones with one route table each, the peering connection requested from A,
//! and the routes to the peer VPC's CIDR (and nothing wider) through it.

pub mod config;

use cairn_dsl::aws::ec2::{
    Route, RouteTable, RouteTableAssociation, Subnet, Vpc, VpcPeeringConnection,
};
use cairn_dsl::{Binding, Declare, Output, Resource, Stack, tags};
use cairn_engine::ProviderBinding;
use serde_json::json;

pub use config::{PeeringConfig, Side, check};

/// The program's name on the command line.
pub const NAME: &str = "vpc-peering";

/// One VPC as declared: the VPC and its private route tables.
struct DeclaredVpc {
    vpc: Resource<Vpc>,
    route_tables: Vec<Resource<RouteTable>>,
}

/// Declares the peering program into `stack`.
pub fn declare(stack: &Stack, config: &PeeringConfig) {
    stack.set_default_tags(config.tags.clone());
    let trading = stack.provider(binding("trading", &config.trading, config));
    let analytics = stack.provider(binding("analytics", &config.analytics, config));
    let requester = declare_vpc(&trading, "trading", &config.trading, &config.environment_suffix);
    let accepter =
        declare_vpc(&analytics, "analytics", &config.analytics, &config.environment_suffix);
    let peering = trading.add(
        VpcPeeringConnection::new("trading-analytics-peering")
            .vpc_id(requester.vpc.id())
            .peer_vpc_id(accepter.vpc.id())
            .peer_owner_id(&config.analytics.account_id)
            .peer_region(&config.analytics.region)
            .tags(tags([(
                "Name",
                format!("trading-analytics-{}", config.environment_suffix).as_str(),
            )])),
    );
    declare_peer_routes(&trading, "trading", &requester, &config.analytics.cidr, peering.id());
    declare_peer_routes(&analytics, "analytics", &accepter, &config.trading.cidr, peering.id());
    stack.export("PeeringConnectionId", peering.id());
    for (side, declared) in [("Trading", &requester), ("Analytics", &accepter)] {
        stack.export(format!("{side}VpcId"), declared.vpc.id());
        for (number, table) in declared.route_tables.iter().enumerate() {
            stack.export(format!("{side}PrivateRouteTable{}Id", number + 1), table.id());
        }
    }
}

/// The provider binding of one side: its account, region and how cairn reaches it.
fn binding(name: &str, side: &Side, config: &PeeringConfig) -> ProviderBinding {
    ProviderBinding {
        name: name.to_owned(),
        account_id: side.account_id.clone(),
        region: side.region.clone(),
        settings: json!({
            "deployer_role_arn": side.deployer_role_arn,
            "deployer_external_id": side.deployer_external_id,
            "session_name": format!("cairn-{}-{}", config.stack, config.environment_suffix),
        }),
    }
}

/// A VPC with DNS on, and one private subnet and route table per availability zone.
fn declare_vpc(place: &Binding, side: &str, config: &Side, suffix: &str) -> DeclaredVpc {
    let vpc = place.add(
        Vpc::new(format!("{side}-vpc"))
            .cidr_block(&config.cidr)
            .enable_dns_support(true)
            .enable_dns_hostnames(true)
            .tags(tags([("Name", format!("{side}-vpc-{suffix}").as_str())])),
    );
    let route_tables = config
        .availability_zones
        .iter()
        .zip(&config.private_subnets)
        .enumerate()
        .map(|(number, (zone, cidr))| {
            let label = format!("{side}-private-{}", number + 1);
            let subnet = place.add(
                Subnet::new(&label)
                    .vpc_id(vpc.id())
                    .cidr_block(cidr)
                    .availability_zone(zone)
                    .tags(tags([("Name", format!("{label}-{suffix}").as_str())])),
            );
            let table = place.add(
                RouteTable::new(format!("{label}-rt"))
                    .vpc_id(vpc.id())
                    .tags(tags([("Name", format!("{label}-rt-{suffix}").as_str())])),
            );
            place.add(
                RouteTableAssociation::new(format!("{label}-rt-assoc"))
                    .route_table_id(table.id())
                    .subnet_id(subnet.id()),
            );
            table
        })
        .collect();
    DeclaredVpc { vpc, route_tables }
}

/// A route to the peer VPC's CIDR through the peering connection in every private route
/// table of one side.
fn declare_peer_routes(
    place: &Binding,
    side: &str,
    declared: &DeclaredVpc,
    peer_cidr: &str,
    peering_id: Output<String>,
) {
    for (number, table) in declared.route_tables.iter().enumerate() {
        place.add(
            Route::new(format!("{side}-private-{}-to-peer", number + 1))
                .route_table_id(table.id())
                .destination_cidr_block(peer_cidr)
                .vpc_peering_connection_id(&peering_id),
        );
    }
}
