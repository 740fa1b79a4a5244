//! Subnets, route tables, their associations and routes.

use cairn_engine::{Input, InputIssue, Resource, ResourceView};
use ipnet::Ipv4Net;
use serde_json::Value;

use crate::checks::{check_prefix, cidr_issue, earlier_siblings, issues, literal_cidr, required};
use crate::resource;

resource! {
    /// A subnet of a VPC in one availability zone; cairn waits until it is `available`. Its
    /// CIDR block would collide with its replacement's, so a replacement deletes first.
    Subnet(SubnetArgs, SubnetOutputs) "aws:ec2/Subnet" {
        taggable: true,
        create_before_delete: false,
        validate: validate_subnet,
        inputs {
            /// The VPC it belongs to.
            vpc_id: String [force_new],
            /// Its IPv4 CIDR block, inside the VPC's.
            cidr_block: String [force_new],
            /// The availability zone, for example `us-east-1a`.
            availability_zone: String [force_new],
            /// Whether instances get a public IP address at launch.
            map_public_ip_on_launch: bool,
        }
        outputs {
            /// The subnet id (`subnet-…`).
            id: String,
            /// The subnet's ARN.
            arn: String,
        }
    }
}

fn validate_subnet(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(view, &["vpc_id", "cidr_block"]);
    match literal_cidr(view, "cidr_block") {
        Ok(Some(network)) => found.extend(check_subnet_cidr(view, network)),
        Ok(None) => {}
        Err(issue) => found.push(issue),
    }
    found
}

/// Checks a subnet's literal CIDR block: its prefix, and that it lies inside its VPC's.
fn check_subnet_cidr(view: &ResourceView<'_>, network: Ipv4Net) -> Vec<InputIssue> {
    let vpc_network = view
        .referenced("vpc_id")
        .and_then(|vpc| vpc.inputs.get("cidr_block"))
        .and_then(|cidr| cidr.as_literal_str())
        .and_then(|text| text.parse::<Ipv4Net>().ok());
    let outside = vpc_network.filter(|vpc| !vpc.contains(&network)).map(|vpc| {
        InputIssue::new(
            "cidr_block",
            format!("`{network}` is not inside its VPC's CIDR block `{vpc}`"),
            format!("choose a block inside {vpc}"),
        )
    });
    let overlapping = earlier_siblings(view, "vpc_id").find_map(|sibling| {
        let other: Ipv4Net = sibling.inputs.get("cidr_block")?.as_literal_str()?.parse().ok()?;
        let overlap = other.contains(&network.network()) || network.contains(&other.network());
        overlap.then(|| {
            InputIssue::new(
                "cidr_block",
                format!(
                    "`{network}` overlaps `{other}` of subnet `{}` in the same VPC",
                    sibling.name
                ),
                "give each subnet of a VPC its own block",
            )
        })
    });
    issues([check_prefix("cidr_block", network), outside, overlapping])
}

resource! {
    /// A route table of a VPC.
    RouteTable(RouteTableArgs, RouteTableOutputs) "aws:ec2/RouteTable" {
        taggable: true,
        create_before_delete: true,
        validate: validate_route_table,
        inputs {
            /// The VPC it belongs to.
            vpc_id: String [force_new],
            /// The destinations of the routes the program declares in this table, filled in by
            /// the stack from the [`Route`] resources that name it. Leave it unset.
            declared_routes: Vec<String>,
            /// The routes of the table that none of `declared_routes` names and no endpoint or
            /// propagation owns (added by hand, or by another tool): declared empty, read back
            /// by `refresh`, and deleted by the apply that follows. Leave it unset.
            unmanaged_routes: Vec<Value> [exclusive],
        }
        outputs {
            /// The route table id (`rtb-…`).
            id: String,
        }
    }
}

resource! {
    /// Associates a route table with a subnet (a subnet has at most one association, so a
    /// replacement deletes the old one first). It cannot be tagged: cairn finds it again by
    /// its route table and subnet.
    RouteTableAssociation(RouteTableAssociationArgs, RouteTableAssociationOutputs) "aws:ec2/RouteTableAssociation" {
        taggable: false,
        create_before_delete: false,
        validate: validate_association,
        inputs {
            /// The route table.
            route_table_id: String [force_new],
            /// The subnet.
            subnet_id: String [force_new],
        }
        outputs {
            /// The association id (`rtbassoc-…`).
            id: String,
        }
    }
}

resource! {
    /// One route of a route table. Exactly one target is set; changing the target replaces
    /// the route's target in place. It cannot be tagged: cairn finds it again by its route
    /// table and destination.
    Route(RouteArgs, RouteOutputs) "aws:ec2/Route" {
        taggable: false,
        create_before_delete: false,
        validate: validate_route,
        inputs {
            /// The route table.
            route_table_id: String [force_new],
            /// The destination, for example the peer VPC's CIDR block.
            destination_cidr_block: String [force_new],
            /// Target: a VPC peering connection.
            vpc_peering_connection_id: String,
            /// Target: a NAT gateway.
            nat_gateway_id: String,
            /// Target: an internet gateway.
            gateway_id: String,
        }
        outputs {
            /// `<route_table_id>_<destination_cidr_block>`.
            id: String,
        }
    }
}

/// The inputs of which a route sets exactly one.
const ROUTE_TARGETS: [&str; 3] = ["vpc_peering_connection_id", "nat_gateway_id", "gateway_id"];

fn validate_route_table(view: &ResourceView<'_>) -> Vec<InputIssue> {
    required(view, &["vpc_id"])
}

fn validate_association(view: &ResourceView<'_>) -> Vec<InputIssue> {
    required(view, &["route_table_id", "subnet_id"])
}

fn validate_route(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let targets = ROUTE_TARGETS.iter().filter(|target| view.input(target).is_some()).count();
    let mut found = required(view, &["route_table_id", "destination_cidr_block"]);
    if targets != 1 {
        found.push(InputIssue::new(
            "target",
            format!("the route sets {targets} targets"),
            format!("set exactly one of {}", ROUTE_TARGETS.join(", ")),
        ));
    }
    found.extend(cidr_issue(view, "destination_cidr_block"));
    found
}

/// The key a route resource has in its table's `declared_routes`: its destination, when
/// literal.
pub(crate) fn declared_route_key(route: &Resource) -> Option<String> {
    let destination = route.inputs.get("destination_cidr_block").and_then(Input::as_literal);
    destination.and_then(Value::as_str).map(str::to_owned)
}
