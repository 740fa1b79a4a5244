//! S3 buckets.

mod bucket;
mod settings;

use crate::resources::Handler;

/// The handler of a type token of this module.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    match type_token {
        "aws:s3/Bucket" => Some(&bucket::BucketHandler),
        _ => None,
    }
}
