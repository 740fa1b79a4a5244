//! Secrets Manager look-ups.

mod secret_value;

use crate::resources::Handler;

/// The handler of a type token of this module.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    match type_token {
        "aws:secretsmanager/SecretValue" => Some(&secret_value::SecretValueHandler),
        _ => None,
    }
}
