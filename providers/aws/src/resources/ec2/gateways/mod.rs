//! `aws:ec2/InternetGateway`, `Eip` and `NatGateway`.

mod eip;
mod internet_gateway;
mod nat_gateway;

use crate::resources::Handler;

/// The handler of a type token of this module.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    match type_token {
        "aws:ec2/InternetGateway" => Some(&internet_gateway::InternetGatewayHandler),
        "aws:ec2/Eip" => Some(&eip::EipHandler),
        "aws:ec2/NatGateway" => Some(&nat_gateway::NatGatewayHandler),
        _ => None,
    }
}
