//! `aws:ec2/Subnet`, `RouteTable`, `RouteTableAssociation` and `Route`.

use crate::resources::Handler;

/// The handler of a type token of this module.
pub fn handler(_type_token: &str) -> Option<&'static dyn Handler> {
    None
}
