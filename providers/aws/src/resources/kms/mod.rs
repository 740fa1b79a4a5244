//! KMS keys and aliases.

mod alias;
mod key;

use crate::resources::Handler;

/// Per-call configuration that turns the SDK's retries off, for a create that
/// [`create_unless_made`](super::create_unless_made) retries itself.
pub fn once() -> aws_sdk_kms::config::Builder {
    aws_sdk_kms::config::Builder::default().retry_config(aws_config::retry::RetryConfig::disabled())
}

/// The handler of a type token of this module.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    match type_token {
        "aws:kms/Key" => Some(&key::KeyHandler),
        "aws:kms/Alias" => Some(&alias::AliasHandler),
        _ => None,
    }
}
