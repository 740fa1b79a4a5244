//! `aws:s3/Bucket`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier, Tag, Tagging,
};
use cairn_dsl::aws::s3::BucketArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use super::settings::{apply_settings, delete_policy, read_settings};
use crate::errors::{
    AwsError, CONSISTENCY_RETRIES, Result, built, done_when_gone, referenced_not_yet_visible,
    required, retry_consistency, sdk_error, unless_gone,
};
use crate::resources::{
    Context, Handler, observed_tags, outputs, owned_by, recorded_id, recorded_input,
};

const TYPE: &str = "aws:s3/Bucket";

/// The region where a bucket is created without a location constraint.
const DEFAULT_REGION: &str = "us-east-1";

/// Creates, updates, reads and deletes S3 buckets.
pub struct BucketHandler;

#[async_trait]
impl Handler for BucketHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: BucketArgs = cx.args()?;
        let bucket = required(args.bucket.as_deref(), TYPE, "bucket")?;
        // us-east-1 refuses a location constraint naming itself; every other region needs one.
        let location = (cx.region() != DEFAULT_REGION).then(|| {
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(cx.region()))
                .build()
        });
        cx.clients
            .s3
            .create_bucket()
            .bucket(bucket)
            .set_create_bucket_configuration(location)
            .send()
            .await
            .map_err(|error| sdk_error(&format!("creating bucket {bucket}"), error))?;
        put_tags(cx, bucket, &args.tags).await?;
        apply_settings(cx, bucket, &BucketArgs::default(), &args).await?;
        Ok(bucket_outputs(cx, bucket))
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        let args: BucketArgs = cx.args()?;
        let old: BucketArgs = cx.prior_args(prior)?;
        let bucket = recorded_id(prior)?;
        apply_settings(cx, bucket, &old, &args).await?;
        if args.tags != old.tags {
            put_tags(cx, bucket, &args.tags).await?;
        }
        Ok(bucket_outputs(cx, bucket))
    }

    /// The policy goes first: a policy that denies object calls would block emptying the
    /// bucket (on AWS, one that denies the deleting principal; moto applies any conditional
    /// Deny, such as one on `aws:SecureTransport`, to every object call).
    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let args: BucketArgs = cx.prior_args(prior)?;
        let bucket = recorded_id(prior)?;
        done_when_gone(delete_bucket(cx, bucket, args.force_destroy == Some(true)).await)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let bucket = recorded_id(prior)?;
        let found = cx.clients.s3.head_bucket().bucket(bucket).send().await;
        let found = found.map_err(|error| sdk_error(&format!("reading bucket {bucket}"), error));
        if unless_gone(found)?.is_none() {
            return Ok(None);
        }
        let asked: BucketArgs = cx.prior_args(prior)?;
        let mut inputs = read_settings(cx, bucket, &asked).await?;
        inputs.insert("bucket".to_owned(), json!(bucket));
        let tags = read_tags(cx, bucket).await?.unwrap_or_default();
        inputs.extend(observed_tags(&tags).map(|tags| ("tags".to_owned(), tags)));
        let force_destroy = recorded_input(prior, "force_destroy");
        inputs.extend(force_destroy.map(|flag| ("force_destroy".to_owned(), flag)));
        Ok(Some(Observed { inputs, outputs: bucket_outputs(cx, bucket) }))
    }

    /// By the bucket's name (names are global), if it carries this URN's tag.
    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: BucketArgs = cx.args()?;
        let bucket = required(args.bucket.as_deref(), TYPE, "bucket")?;
        let tags = read_tags(cx, bucket).await?.unwrap_or_default();
        let owned = owned_by(&tags, cx.urn());
        Ok(owned.then(|| bucket_outputs(cx, bucket)))
    }
}

/// The bucket's outputs: its name as id, its ARN and region.
fn bucket_outputs(cx: &Context<'_>, bucket: &str) -> Outputs {
    outputs([
        ("id", json!(bucket)),
        ("arn", json!(format!("arn:aws:s3:::{bucket}"))),
        ("region", json!(cx.region())),
    ])
}

/// Replaces the bucket's tags with the program's plus the ownership tag, waiting for a
/// bucket created a moment ago.
async fn put_tags(
    cx: &Context<'_>,
    bucket: &str,
    tags: &Option<BTreeMap<String, String>>,
) -> Result<()> {
    let tags = cx
        .tags_with_ownership(tags)
        .iter()
        .map(|(key, value)| built(Tag::builder().key(key).value(value).build(), "an S3 tag"))
        .collect::<Result<Vec<Tag>>>()?;
    let tagging = built(Tagging::builder().set_tag_set(Some(tags)).build(), "the bucket tags")?;
    retry_consistency(
        "tagging the bucket",
        CONSISTENCY_RETRIES,
        referenced_not_yet_visible,
        || async {
            cx.clients
                .s3
                .put_bucket_tagging()
                .bucket(bucket)
                .tagging(tagging.clone())
                .send()
                .await
                .map_err(|error| sdk_error(&format!("tagging bucket {bucket}"), error))
        },
    )
    .await?;
    Ok(())
}

/// The bucket's tags; `Some(empty)` when it has none, `None` when the bucket is gone.
async fn read_tags(cx: &Context<'_>, bucket: &str) -> Result<Option<BTreeMap<String, String>>> {
    let found = cx.clients.s3.get_bucket_tagging().bucket(bucket).send().await;
    match found.map_err(|error| sdk_error(&format!("reading the tags of bucket {bucket}"), error)) {
        Ok(found) => Ok(Some(
            found
                .tag_set()
                .iter()
                .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
                .collect(),
        )),
        Err(error) if error.code == "NoSuchTagSet" => Ok(Some(BTreeMap::new())),
        Err(error) => unless_gone(Err(error)),
    }
}

/// Deletes the policy, then (with `force_destroy`) every object version and delete marker,
/// then the bucket.
async fn delete_bucket(cx: &Context<'_>, bucket: &str, force_destroy: bool) -> Result<()> {
    delete_policy(cx, bucket).await?;
    if force_destroy {
        empty_bucket(cx, bucket).await?;
    }
    let deleted = cx.clients.s3.delete_bucket().bucket(bucket).send().await;
    match deleted.map_err(|error| sdk_error(&format!("deleting bucket {bucket}"), error)) {
        Err(error) if error.code == "BucketNotEmpty" => Err(AwsError {
            message: format!(
                "{}: empty it, or set force_destroy on it and apply before destroying",
                error.message
            ),
            ..error
        }),
        other => other.map(|_| ()),
    }
}

/// Deletes every object version and delete marker, a page at a time.
async fn empty_bucket(cx: &Context<'_>, bucket: &str) -> Result<()> {
    loop {
        let page =
            cx.clients.s3.list_object_versions().bucket(bucket).send().await.map_err(|error| {
                sdk_error(&format!("listing the objects of bucket {bucket}"), error)
            })?;
        let versions = page.versions().iter().map(|version| (version.key(), version.version_id()));
        let markers =
            page.delete_markers().iter().map(|marker| (marker.key(), marker.version_id()));
        let objects = versions
            .chain(markers)
            .filter_map(|(key, version)| {
                let object = ObjectIdentifier::builder()
                    .key(key?)
                    .set_version_id(version.map(str::to_owned));
                Some(built(object.build(), "an object to delete"))
            })
            .collect::<Result<Vec<ObjectIdentifier>>>()?;
        if objects.is_empty() {
            return Ok(());
        }
        let batch = built(
            Delete::builder().set_objects(Some(objects)).quiet(true).build(),
            "a delete batch",
        )?;
        let deleted =
            cx.clients.s3.delete_objects().bucket(bucket).delete(batch).send().await.map_err(
                |error| sdk_error(&format!("deleting the objects of bucket {bucket}"), error),
            )?;
        if let Some(failure) = deleted.errors().first() {
            return Err(AwsError::new(format!(
                "deleting object {} of bucket {bucket}: {}: {}",
                failure.key().unwrap_or_default(),
                failure.code().unwrap_or_default(),
                failure.message().unwrap_or_default()
            )));
        }
    }
}
