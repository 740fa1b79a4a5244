//! A bucket's settings, each its own S3 sub-resource: versioning, default encryption, public
//! access block, lifecycle and policy. Each is put when set and deleted when unset.

use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketVersioningStatus, ExpirationStatus, LifecycleExpiration,
    LifecycleRule, LifecycleRuleFilter, NoncurrentVersionExpiration,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use cairn_dsl::aws::s3::BucketArgs;
use serde_json::{Map, Value, json};

use crate::errors::{
    AwsError, CONSISTENCY_RETRIES, Result, built, principal_not_yet_visible, retry_consistency,
    sdk_error, unless_gone,
};
use crate::resources::{Context, observed_document, observed_inputs};

/// The id of the one lifecycle rule cairn manages.
const LIFECYCLE_RULE_ID: &str = "cairn";

/// Applies the settings of `new` that differ from `old` (a new bucket: from the defaults).
/// The policy comes last, so a restrictive one cannot block the calls before it.
pub async fn apply_settings(
    cx: &Context<'_>,
    bucket: &str,
    old: &BucketArgs,
    new: &BucketArgs,
) -> Result<()> {
    if new.versioning != old.versioning {
        set_versioning(cx, bucket, new.versioning.unwrap_or(false)).await?;
    }
    if new.kms_key_arn != old.kms_key_arn {
        set_encryption(cx, bucket, new.kms_key_arn.as_deref()).await?;
    }
    if new.block_public_access != old.block_public_access {
        set_public_access_block(cx, bucket, new.block_public_access).await?;
    }
    let lifecycle = |args: &BucketArgs| {
        (args.lifecycle_expiration_days, args.lifecycle_noncurrent_expiration_days)
    };
    if lifecycle(new) != lifecycle(old) {
        set_lifecycle(cx, bucket, lifecycle(new)).await?;
    }
    if new.policy != old.policy {
        match &new.policy {
            Some(policy) => put_policy(cx, bucket, policy).await?,
            None => delete_policy(cx, bucket).await?,
        }
    }
    Ok(())
}

/// The settings as S3 has them, as observed inputs; `asked` gives the policy's text back
/// when S3 holds the same document.
pub async fn read_settings(
    cx: &Context<'_>,
    bucket: &str,
    asked: &BucketArgs,
) -> Result<Map<String, Value>> {
    let (expiration, noncurrent) = read_lifecycle(cx, bucket).await?;
    let policy = read_policy(cx, bucket)
        .await?
        .map(|policy| observed_document(&policy, asked.policy.as_deref()));
    Ok(observed_inputs([
        ("versioning", Some(json!(read_versioning(cx, bucket).await?))),
        ("kms_key_arn", read_encryption(cx, bucket).await?.map(|arn| json!(arn))),
        ("block_public_access", read_public_access_block(cx, bucket).await?.map(|on| json!(on))),
        ("policy", policy),
        ("lifecycle_expiration_days", expiration.map(|days| json!(days))),
        ("lifecycle_noncurrent_expiration_days", noncurrent.map(|days| json!(days))),
    ]))
}

/// `None` when S3 says the setting is not configured (each setting has its own code).
fn not_set<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Err(error) if error.code == "ServerSideEncryptionConfigurationNotFoundError" => Ok(None),
        other => unless_gone(other),
    }
}

async fn set_versioning(cx: &Context<'_>, bucket: &str, enabled: bool) -> Result<()> {
    let status =
        if enabled { BucketVersioningStatus::Enabled } else { BucketVersioningStatus::Suspended };
    cx.clients
        .s3
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .map_err(|error| sdk_error(&format!("setting the versioning of bucket {bucket}"), error))?;
    Ok(())
}

async fn read_versioning(cx: &Context<'_>, bucket: &str) -> Result<bool> {
    let found = cx.clients.s3.get_bucket_versioning().bucket(bucket).send().await;
    match found {
        Ok(found) => Ok(found.status() == Some(&BucketVersioningStatus::Enabled)),
        Err(error) => match misrooted_versioning_status(&error) {
            Some(status) => Ok(status == BucketVersioningStatus::Enabled.as_str()),
            None => Err(sdk_error(&format!("reading the versioning of bucket {bucket}"), error)),
        },
    }
}

/// The versioning status in a successful answer whose XML root the SDK refused.
///
/// moto 5.2.5 names the root of its GetBucketVersioning answer `GetBucketVersioningResponse`
/// where S3 says `VersioningConfiguration`, and the SDK, rightly strict, refuses it. The
/// answer is otherwise S3's, so the status is taken from the raw body the SDK kept: the text
/// of `<Status>`, empty when versioning was never set. AWS's answers never come here.
fn misrooted_versioning_status<E, R>(error: &SdkError<E, R>) -> Option<String>
where
    R: std::borrow::Borrow<HttpResponse>,
{
    let raw: &HttpResponse = error.raw_response()?.borrow();
    let body = std::str::from_utf8(raw.body().bytes()?).ok()?;
    if !raw.status().is_success() || !body.contains("<GetBucketVersioningResponse") {
        return None;
    }
    let status = body.split_once("<Status>").and_then(|(_, rest)| rest.split_once("</Status>"));
    Some(status.map(|(status, _)| status.to_owned()).unwrap_or_default())
}

/// SSE-KMS with `key` and a bucket key; without a key, S3's own default encryption.
async fn set_encryption(cx: &Context<'_>, bucket: &str, key: Option<&str>) -> Result<()> {
    let s3 = &cx.clients.s3;
    let Some(key) = key else {
        s3.delete_bucket_encryption().bucket(bucket).send().await.map_err(|error| {
            sdk_error(&format!("removing the default encryption of bucket {bucket}"), error)
        })?;
        return Ok(());
    };
    let default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::AwsKms)
        .kms_master_key_id(key)
        .build();
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(built(default, "the default encryption")?)
        .bucket_key_enabled(true)
        .build();
    let configuration = ServerSideEncryptionConfiguration::builder().rules(rule).build();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(built(configuration, "the encryption settings")?)
        .send()
        .await
        .map_err(|error| {
            sdk_error(&format!("setting the default encryption of bucket {bucket}"), error)
        })?;
    Ok(())
}

/// The KMS key of the bucket's default encryption, `None` without SSE-KMS.
async fn read_encryption(cx: &Context<'_>, bucket: &str) -> Result<Option<String>> {
    let found = cx.clients.s3.get_bucket_encryption().bucket(bucket).send().await;
    let found = found.map_err(|error| {
        sdk_error(&format!("reading the default encryption of bucket {bucket}"), error)
    });
    let Some(found) = not_set(found)? else { return Ok(None) };
    let defaults = found
        .server_side_encryption_configuration()
        .map(|configuration| configuration.rules())
        .unwrap_or_default()
        .iter()
        .filter_map(|rule| rule.apply_server_side_encryption_by_default());
    Ok(defaults
        .filter(|default| default.sse_algorithm() == &ServerSideEncryption::AwsKms)
        .find_map(|default| default.kms_master_key_id().map(str::to_owned)))
}

/// All four public access blocks on or off; unset removes the bucket's block.
async fn set_public_access_block(cx: &Context<'_>, bucket: &str, on: Option<bool>) -> Result<()> {
    let s3 = &cx.clients.s3;
    let Some(on) = on else {
        s3.delete_public_access_block().bucket(bucket).send().await.map_err(|error| {
            sdk_error(&format!("removing the public access block of bucket {bucket}"), error)
        })?;
        return Ok(());
    };
    let block = PublicAccessBlockConfiguration::builder()
        .block_public_acls(on)
        .ignore_public_acls(on)
        .block_public_policy(on)
        .restrict_public_buckets(on)
        .build();
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(block)
        .send()
        .await
        .map_err(|error| {
            sdk_error(&format!("setting the public access block of bucket {bucket}"), error)
        })?;
    Ok(())
}

/// Whether all four blocks are on; `None` when the bucket has no block of its own.
async fn read_public_access_block(cx: &Context<'_>, bucket: &str) -> Result<Option<bool>> {
    let found = cx.clients.s3.get_public_access_block().bucket(bucket).send().await;
    let found = found.map_err(|error| {
        sdk_error(&format!("reading the public access block of bucket {bucket}"), error)
    });
    let Some(found) = not_set(found)? else { return Ok(None) };
    Ok(found.public_access_block_configuration().map(|block| {
        [
            block.block_public_acls(),
            block.ignore_public_acls(),
            block.block_public_policy(),
            block.restrict_public_buckets(),
        ]
        .into_iter()
        .all(|flag| flag == Some(true))
    }))
}

/// One rule over the whole bucket that expires current objects and/or noncurrent versions;
/// neither set removes the lifecycle configuration.
async fn set_lifecycle(
    cx: &Context<'_>,
    bucket: &str,
    (expiration, noncurrent): (Option<i64>, Option<i64>),
) -> Result<()> {
    let s3 = &cx.clients.s3;
    if expiration.is_none() && noncurrent.is_none() {
        s3.delete_bucket_lifecycle().bucket(bucket).send().await.map_err(|error| {
            sdk_error(&format!("removing the lifecycle of bucket {bucket}"), error)
        })?;
        return Ok(());
    }
    let rule = LifecycleRule::builder()
        .id(LIFECYCLE_RULE_ID)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .set_expiration(
            expiration
                .map(|days| Ok(LifecycleExpiration::builder().days(lifecycle_days(days)?).build()))
                .transpose()?,
        )
        .set_noncurrent_version_expiration(
            noncurrent
                .map(|days| {
                    let days = lifecycle_days(days)?;
                    Ok(NoncurrentVersionExpiration::builder().noncurrent_days(days).build())
                })
                .transpose()?,
        )
        .build();
    let configuration =
        BucketLifecycleConfiguration::builder().rules(built(rule, "the lifecycle rule")?).build();
    s3.put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(built(configuration, "the lifecycle")?)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("setting the lifecycle of bucket {bucket}"), error))?;
    Ok(())
}

fn lifecycle_days(days: i64) -> Result<i32> {
    i32::try_from(days).ok().filter(|days| *days >= 1).ok_or_else(|| {
        AwsError::new(format!("a lifecycle of {days} days is out of range: use 1 or more days"))
    })
}

/// The days of cairn's lifecycle rule (or the bucket's first rule): current objects,
/// noncurrent versions.
async fn read_lifecycle(cx: &Context<'_>, bucket: &str) -> Result<(Option<i32>, Option<i32>)> {
    let found = cx.clients.s3.get_bucket_lifecycle_configuration().bucket(bucket).send().await;
    let found = found
        .map_err(|error| sdk_error(&format!("reading the lifecycle of bucket {bucket}"), error));
    let Some(found) = not_set(found)? else { return Ok((None, None)) };
    let rules = found.rules();
    let rule =
        rules.iter().find(|rule| rule.id() == Some(LIFECYCLE_RULE_ID)).or_else(|| rules.first());
    Ok(rule.map_or((None, None), |rule| {
        (
            rule.expiration().and_then(|expiration| expiration.days()),
            rule.noncurrent_version_expiration()
                .and_then(|expiration| expiration.noncurrent_days()),
        )
    }))
}

/// Puts the bucket policy. A policy naming a principal created a moment ago fails until the
/// principal is visible. The text is checked first: an emulator takes invalid JSON and then
/// fails every object request.
async fn put_policy(cx: &Context<'_>, bucket: &str, policy: &str) -> Result<()> {
    if serde_json::from_str::<Value>(policy).is_err() {
        return Err(AwsError::new(format!(
            "the policy of bucket {bucket} is not valid JSON: build it with \
             cairn_dsl::json_document"
        )));
    }
    retry_consistency(
        "putting the bucket policy",
        CONSISTENCY_RETRIES,
        principal_unknown,
        || async {
            cx.clients.s3.put_bucket_policy().bucket(bucket).policy(policy).send().await.map_err(
                |error| sdk_error(&format!("setting the policy of bucket {bucket}"), error),
            )
        },
    )
    .await?;
    Ok(())
}

/// Codes that mean the policy names a principal S3 does not see yet.
fn principal_unknown(code: &str) -> bool {
    code == "MalformedPolicy" || principal_not_yet_visible(code)
}

/// Removes the bucket policy (none is not an error).
pub async fn delete_policy(cx: &Context<'_>, bucket: &str) -> Result<()> {
    cx.clients
        .s3
        .delete_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("removing the policy of bucket {bucket}"), error))?;
    Ok(())
}

async fn read_policy(cx: &Context<'_>, bucket: &str) -> Result<Option<String>> {
    let found = cx.clients.s3.get_bucket_policy().bucket(bucket).send().await;
    let found =
        found.map_err(|error| sdk_error(&format!("reading the policy of bucket {bucket}"), error));
    Ok(not_set(found)?.and_then(|found| found.policy))
}
