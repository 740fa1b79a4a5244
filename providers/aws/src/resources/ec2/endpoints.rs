//! `aws:ec2/VpcEndpoint` (gateway endpoints).

use crate::resources::Handler;

/// The handler of a type token of this module.
pub fn handler(_type_token: &str) -> Option<&'static dyn Handler> {
    None
}
