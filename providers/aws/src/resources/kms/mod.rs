//! KMS keys and aliases.

mod alias;
mod key;

use crate::resources::Handler;

/// The handler of a type token of this module.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    match type_token {
        "aws:kms/Key" => Some(&key::KeyHandler),
        "aws:kms/Alias" => Some(&alias::AliasHandler),
        _ => None,
    }
}
