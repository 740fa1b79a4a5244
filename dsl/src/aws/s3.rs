//! Amazon S3 buckets.

use cairn_engine::{InputIssue, ResourceView};

use crate::checks::{check_range, issues, json_object_text, required};
use crate::resource;

resource! {
    /// An S3 bucket with its default encryption, public access block, policy, lifecycle and
    /// versioning. Bucket names are global, so a replacement deletes the old bucket first.
    Bucket(BucketArgs, BucketOutputs) "aws:s3/Bucket" {
        taggable: true,
        create_before_delete: false,
        validate: validate_bucket,
        inputs {
            /// The bucket's name, globally unique; include the environment suffix.
            bucket: String [force_new, name],
            /// On delete, remove every object version and delete marker first, so the delete
            /// always succeeds.
            force_destroy: bool,
            /// Encrypt new objects by default with this KMS key (SSE-KMS with a bucket key).
            kms_key_arn: String,
            /// Block every kind of public access (all four settings).
            block_public_access: bool,
            /// The bucket policy (a JSON document).
            policy: String,
            /// Expire current objects this many days after creation.
            lifecycle_expiration_days: i64,
            /// Expire noncurrent object versions this many days after they become noncurrent.
            lifecycle_noncurrent_expiration_days: i64,
            /// Keep every version of every object.
            versioning: bool,
        }
        outputs {
            /// The bucket's name.
            id: String,
            /// The bucket's ARN.
            arn: String,
            /// The region it lives in.
            region: String,
        }
    }
}

fn validate_bucket(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(view, &["bucket"]);
    found.extend(issues([
        check_bucket_name(view),
        json_object_text(view, "policy"),
        check_range(view, "lifecycle_expiration_days", 1..=i64::from(i32::MAX)),
        check_range(view, "lifecycle_noncurrent_expiration_days", 1..=i64::from(i32::MAX)),
    ]));
    found
}

fn check_bucket_name(view: &ResourceView<'_>) -> Option<InputIssue> {
    let name = view.literal_str("bucket")?;
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let valid = (3..=63).contains(&name.len())
        && name.chars().all(allowed)
        && edge(name.chars().next())
        && edge(name.chars().last());
    (!valid).then(|| {
        InputIssue::new(
            "bucket",
            format!("`{name}` is not a valid bucket name"),
            "use 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with \
             a letter or digit",
        )
    })
}
