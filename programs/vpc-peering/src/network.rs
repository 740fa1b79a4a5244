//! One side's network: the VPC, private subnets with a route table each, an optional NAT
//! gateway in a public subnet, and gateway endpoints for S3 and DynamoDB.

use cairn::aws::ec2::{
    Eip, InternetGateway, NatGateway, Route, RouteTable, RouteTableAssociation, Subnet, Vpc,
    VpcEndpoint,
};
use cairn::{Binding, Declare, Resource, tags};

use super::{Side, SideContext};

/// A side's network as declared.
pub struct Network {
    /// The VPC.
    pub vpc: Resource<Vpc>,
    /// The private subnets, one per zone.
    pub private_subnets: Vec<Resource<Subnet>>,
    /// Their route tables, one per subnet.
    pub route_tables: Vec<Resource<RouteTable>>,
    /// The NAT gateway, when the config asks for one.
    pub nat: Option<Resource<NatGateway>>,
}

/// Declares a side's network.
pub fn declare(place: &Binding, side: &SideContext<'_>) -> Network {
    let config = side.config;
    let vpc = place.add(
        Vpc::new("vpc")
            .cidr_block(&config.cidr)
            .enable_dns_support(true)
            .enable_dns_hostnames(true)
            .tags(name_tag(&side.aws_name("vpc"))),
    );
    let (private_subnets, route_tables) = config
        .availability_zones
        .iter()
        .zip(&config.private_subnets)
        .enumerate()
        .map(|(index, (zone, cidr))| private_subnet(place, side, &vpc, index + 1, zone, cidr))
        .unzip();
    let mut network = Network { vpc, private_subnets, route_tables, nat: None };
    if config.nat_gateway {
        network.nat = Some(nat_gateway(place, side, &network));
    }
    gateway_endpoints(place, side, &network);
    network
}

/// The `Name` tag.
fn name_tag(name: &str) -> std::collections::BTreeMap<String, String> {
    tags([("Name", name)])
}

fn private_subnet(
    place: &Binding,
    side: &SideContext<'_>,
    vpc: &Resource<Vpc>,
    number: usize,
    zone: &str,
    cidr: &str,
) -> (Resource<Subnet>, Resource<RouteTable>) {
    let label = format!("private-{number}");
    let subnet = place.add(
        Subnet::new(&label)
            .vpc_id(vpc.id())
            .cidr_block(cidr)
            .availability_zone(zone)
            .map_public_ip_on_launch(false)
            .tags(name_tag(&side.aws_name(&label))),
    );
    let table = place.add(
        RouteTable::new(format!("{label}-rt"))
            .vpc_id(vpc.id())
            .tags(name_tag(&side.aws_name(&format!("{label}-rt")))),
    );
    place.add(
        RouteTableAssociation::new(format!("{label}-rt-assoc"))
            .route_table_id(table.id())
            .subnet_id(subnet.id()),
    );
    (subnet, table)
}

/// A public subnet with an internet gateway, and one NAT gateway the private route tables
/// send internet-bound traffic to.
fn nat_gateway(place: &Binding, side: &SideContext<'_>, network: &Network) -> Resource<NatGateway> {
    let config: &Side = side.config;
    let public_cidr = config.public_subnet.clone().unwrap_or_default();
    let zone = config.availability_zones.first().cloned().unwrap_or_default();
    let public = place.add(
        Subnet::new("public")
            .vpc_id(network.vpc.id())
            .cidr_block(public_cidr)
            .availability_zone(zone)
            .tags(name_tag(&side.aws_name("public"))),
    );
    let gateway = place.add(
        InternetGateway::new("igw").vpc_id(network.vpc.id()).tags(name_tag(&side.aws_name("igw"))),
    );
    let public_table = place.add(
        RouteTable::new("public-rt")
            .vpc_id(network.vpc.id())
            .tags(name_tag(&side.aws_name("public-rt"))),
    );
    place.add(
        RouteTableAssociation::new("public-rt-assoc")
            .route_table_id(public_table.id())
            .subnet_id(public.id()),
    );
    place.add(
        Route::new("public-internet")
            .route_table_id(public_table.id())
            .destination_cidr_block(super::INTERNET)
            .gateway_id(gateway.id()),
    );
    let address =
        place.add(Eip::new("nat-eip").domain("vpc").tags(name_tag(&side.aws_name("nat-eip"))));
    let nat = place.add(
        NatGateway::new("nat")
            .subnet_id(public.id())
            .allocation_id(address.id())
            .tags(name_tag(&side.aws_name("nat")))
            .depends_on(&gateway),
    );
    for (index, table) in network.route_tables.iter().enumerate() {
        place.add(
            Route::new(format!("private-{}-internet", index + 1))
                .route_table_id(table.id())
                .destination_cidr_block(super::INTERNET)
                .nat_gateway_id(nat.id()),
        );
    }
    nat
}

/// Gateway endpoints for S3 and DynamoDB on every private route table.
fn gateway_endpoints(place: &Binding, side: &SideContext<'_>, network: &Network) {
    let tables: Vec<cairn::Output<String>> =
        network.route_tables.iter().map(|table| table.id()).collect();
    for service in ["s3", "dynamodb"] {
        place.add(
            VpcEndpoint::new(format!("{service}-endpoint"))
                .vpc_id(network.vpc.id())
                .service_name(format!("com.amazonaws.{}.{service}", side.config.region))
                .vpc_endpoint_type("Gateway")
                .route_table_ids(tables.clone())
                .tags(name_tag(&side.aws_name(&format!("{service}-endpoint")))),
        );
    }
}
