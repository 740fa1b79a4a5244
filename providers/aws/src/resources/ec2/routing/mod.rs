//! `aws:ec2/Subnet`, `RouteTable`, `RouteTableAssociation` and `Route`.

mod route;
mod route_table;
mod subnet;

use crate::resources::Handler;

/// The handler of a type token of this module.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    match type_token {
        "aws:ec2/Subnet" => Some(&subnet::SubnetHandler),
        "aws:ec2/RouteTable" => Some(&route_table::RouteTableHandler),
        "aws:ec2/RouteTableAssociation" => Some(&route_table::AssociationHandler),
        "aws:ec2/Route" => Some(&route::RouteHandler),
        _ => None,
    }
}
