//! One handler per resource type, and the registry that finds it by type token.

pub mod cloudwatch;
pub mod config;
pub mod ec2;
pub mod iam;
pub mod kms;
pub mod logs;
pub mod s3;
pub mod secretsmanager;

use std::collections::BTreeMap;
use std::future::Future;

use async_trait::async_trait;
use cairn_engine::{Observed, Outputs, RecordedResource, ResourceRequest};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use aws_config::retry::RetryConfig;

use crate::clients::Clients;
use crate::errors::{AwsError, Result};

/// The tag that carries a resource's URN, so an interrupted create can be found again.
pub const OWNERSHIP_TAG: &str = "cairn:urn";

/// What a handler works with: the binding's clients and the request.
pub struct Context<'a> {
    /// The clients of the resource's binding.
    pub clients: &'a Clients,
    /// The request.
    pub request: &'a ResourceRequest,
    /// The id of the resource a create-first replacement replaces, which carries the same
    /// ownership tag: set when looking for an owned resource and when creating a replacement.
    pub replaced_id: Option<&'a str>,
}

impl Context<'_> {
    /// The request's inputs as the type's argument struct.
    pub fn args<T: DeserializeOwned>(&self) -> Result<T> {
        parse_args(&self.request.type_token, &self.request.inputs)
    }

    /// The recorded inputs of `prior` as the type's argument struct.
    pub fn prior_args<T: DeserializeOwned>(&self, prior: &RecordedResource) -> Result<T> {
        parse_args(&self.request.type_token, &prior.inputs)
    }

    /// Whether `id` is the resource a create-first replacement replaces, which
    /// [`Handler::find_owned`] must pass over.
    pub fn is_replaced(&self, id: Option<&str>) -> bool {
        id.is_some() && id == self.replaced_id
    }

    /// The URN, for the ownership tag.
    pub fn urn(&self) -> &str {
        self.request.urn.as_str()
    }

    /// The tags to put on the resource: the program's, plus the ownership tag.
    pub fn tags_with_ownership(
        &self,
        tags: &Option<BTreeMap<String, String>>,
    ) -> BTreeMap<String, String> {
        let mut all = tags.clone().unwrap_or_default();
        all.insert(OWNERSHIP_TAG.to_owned(), self.urn().to_owned());
        all
    }

    /// The account of the binding.
    pub fn account(&self) -> &str {
        &self.clients.binding.account_id
    }

    /// The region of the binding.
    pub fn region(&self) -> &str {
        &self.clients.binding.region
    }
}

fn parse_args<T: DeserializeOwned>(type_token: &str, inputs: &Value) -> Result<T> {
    serde_json::from_value(inputs.clone()).map_err(|error| {
        AwsError::new(format!(
            "the inputs of this {type_token} do not match its arguments ({error}): \
             the program and cairn-aws disagree; rebuild both from the same version"
        ))
    })
}

/// The id recorded for a resource.
pub fn recorded_id(prior: &RecordedResource) -> Result<&str> {
    prior
        .outputs
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| AwsError::new("the state records no `id` for this resource: remove it from the state and import it again"))
}

/// Outputs from name/value pairs.
pub fn outputs<'a>(pairs: impl IntoIterator<Item = (&'a str, Value)>) -> Outputs {
    pairs.into_iter().map(|(name, value)| (name.to_owned(), value)).collect()
}

/// Inputs read back from the cloud, leaving out what is not set.
pub fn observed_inputs<'a>(
    pairs: impl IntoIterator<Item = (&'a str, Option<Value>)>,
) -> serde_json::Map<String, Value> {
    pairs
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name.to_owned(), value)))
        .collect()
}

/// Outputs made of an id alone.
pub fn id_outputs(id: &str) -> Outputs {
    outputs([("id", json!(id))])
}

/// The recorded outputs, for updates that change none of them.
pub fn prior_outputs(prior: &RecordedResource) -> Result<Outputs> {
    let outputs = prior.outputs.as_object().filter(|outputs| outputs.contains_key("id"));
    outputs.cloned().ok_or_else(|| {
        AwsError::new(
            "the state records no outputs for this resource: remove it from the state and \
             import it again",
        )
    })
}

/// An input AWS does not keep (it only steers cairn, like `force_destroy`), observed as
/// recorded.
pub fn recorded_input(prior: &RecordedResource, property: &str) -> Option<Value> {
    prior.inputs.get(property).filter(|value| !value.is_null()).cloned()
}

/// A number input as the `f64` the SDK takes.
pub fn float(value: &Option<Value>, type_token: &str, property: &str) -> Result<Option<f64>> {
    value
        .as_ref()
        .map(|number| {
            number.as_f64().ok_or_else(|| {
                AwsError::new(format!("{type_token}: `{property}` must be a number, not {number}"))
            })
        })
        .transpose()
}

/// A number read back from AWS, shaped as a program writes it: whole numbers as integers.
pub fn number_value(number: f64) -> Value {
    let whole = number.fract() == 0.0 && number.abs() < 9.0e15;
    // The cast is exact: the number is whole and far inside the range of i64.
    if whole { json!(number as i64) } else { json!(number) }
}

/// A list read back as an observed input: absent when empty, as a program that sets none.
pub fn non_empty_list(items: &[String]) -> Option<Value> {
    (!items.is_empty()).then(|| json!(items))
}

/// A policy document read back from AWS, as an observed input: the text the program gave
/// when AWS holds the same document (AWS reorders, reformats and URL-encodes documents),
/// AWS's document in canonical JSON otherwise.
pub fn observed_document(from_aws: &str, asked: Option<&str>) -> Value {
    let Some(document) = parse_document(from_aws) else { return json!(from_aws) };
    match asked {
        Some(text) if parse_document(text).as_ref() == Some(&document) => json!(text),
        _ => json!(document.to_string()),
    }
}

/// A JSON document, URL-encoded or not (IAM returns its documents URL-encoded).
fn parse_document(text: &str) -> Option<Value> {
    serde_json::from_str(text)
        .ok()
        .or_else(|| percent_decode(text).and_then(|decoded| serde_json::from_str(&decoded).ok()))
}

/// `text` with its `%XX` escapes decoded; `None` when an escape or the result is invalid.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let hex = text.get(at + 1..at + 3)?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            at += 3;
        } else {
            decoded.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

/// The program's tags among a resource's tags (cairn's own left out), as an observed input:
/// absent when there are none.
pub fn observed_tags<K: AsRef<str>, V: AsRef<str>>(
    tags: impl IntoIterator<Item = (K, V)>,
) -> Option<Value> {
    let tags: BTreeMap<String, String> = tags
        .into_iter()
        .filter(|(key, _)| !key.as_ref().starts_with("cairn:"))
        .map(|(key, value)| (key.as_ref().to_owned(), value.as_ref().to_owned()))
        .collect();
    (!tags.is_empty()).then(|| json!(tags))
}

/// Whether a resource's tags carry the ownership tag of `urn`.
pub fn owned_by<K: AsRef<str>, V: AsRef<str>>(
    tags: impl IntoIterator<Item = (K, V)>,
    urn: &str,
) -> bool {
    tags.into_iter().any(|(key, value)| key.as_ref() == OWNERSHIP_TAG && value.as_ref() == urn)
}

/// How a resource's tags go from `old` to `new` (the program's tags; cairn's own untouched).
#[derive(Debug, Default, PartialEq)]
struct TagChanges {
    /// The keys to remove.
    removed: Vec<String>,
    /// The tags to add or change.
    changed: BTreeMap<String, String>,
}

impl TagChanges {
    /// The changes from `old` to `new`.
    fn between(
        old: &Option<BTreeMap<String, String>>,
        new: &Option<BTreeMap<String, String>>,
    ) -> Self {
        let old = old.clone().unwrap_or_default();
        let new = new.clone().unwrap_or_default();
        let removed = old.keys().filter(|key| !new.contains_key(*key)).cloned().collect();
        let changed = new.into_iter().filter(|(key, value)| old.get(key) != Some(value)).collect();
        TagChanges { removed, changed }
    }
}

/// Makes a resource's tags go from `old` to `new` (cairn's own untouched) through its
/// service's calls: `untag` removes keys, `tag` adds or overwrites tags; neither is called
/// with nothing to do.
pub async fn sync_tags<Untag, Tag>(
    old: &Option<BTreeMap<String, String>>,
    new: &Option<BTreeMap<String, String>>,
    untag: impl FnOnce(Vec<String>) -> Untag,
    tag: impl FnOnce(BTreeMap<String, String>) -> Tag,
) -> Result<()>
where
    Untag: Future<Output = Result<()>>,
    Tag: Future<Output = Result<()>>,
{
    let changes = TagChanges::between(old, new);
    if !changes.removed.is_empty() {
        untag(changes.removed).await?;
    }
    if !changes.changed.is_empty() {
        tag(changes.changed).await?;
    }
    Ok(())
}

/// Defines, in the calling module, the tag calls of a service that tags resources by ARN
/// with lists of `Tag { key, value }` through `ListTagsForResource`, `TagResource` and
/// `UntagResource` (CloudWatch and AWS Config, whose SDKs are generated alike): `sdk_tags`
/// (the SDK's tags from a map), `read_tags` (a resource's tags) and `update_tags` (from the
/// old tags to the new). `$client` is the service's field of `Clients`.
macro_rules! arn_tagging {
    ($sdk:ident, $client:ident) => {
        /// The SDK's tags from a map.
        fn sdk_tags(tags: &std::collections::BTreeMap<String, String>) -> Vec<$sdk::types::Tag> {
            let tag = |(key, value)| $sdk::types::Tag::builder().key(key).value(value).build();
            tags.iter().map(tag).collect()
        }

        /// The tags of the resource `arn`.
        async fn read_tags(
            cx: &$crate::resources::Context<'_>,
            arn: &str,
        ) -> $crate::errors::Result<std::collections::BTreeMap<String, String>> {
            let found = cx.clients.$client.list_tags_for_resource().resource_arn(arn).send().await;
            let found = found.map_err(|error| {
                $crate::errors::sdk_error(&format!("reading the tags of {arn}"), error)
            })?;
            let pair = |tag: &$sdk::types::Tag| {
                Some((tag.key()?.to_owned(), tag.value().unwrap_or_default().to_owned()))
            };
            Ok(found.tags().iter().filter_map(pair).collect())
        }

        /// Makes the tags of the resource `arn` go from `old` to `new`.
        async fn update_tags(
            cx: &$crate::resources::Context<'_>,
            arn: &str,
            old: &Option<std::collections::BTreeMap<String, String>>,
            new: &Option<std::collections::BTreeMap<String, String>>,
        ) -> $crate::errors::Result<()> {
            let client = &cx.clients.$client;
            let untag = |keys| async move {
                let sent = client.untag_resource().resource_arn(arn).set_tag_keys(Some(keys));
                sent.send().await.map(drop).map_err(|error| {
                    $crate::errors::sdk_error(&format!("removing tags from {arn}"), error)
                })
            };
            let tag = |tags| async move {
                let sent = client.tag_resource().resource_arn(arn).set_tags(Some(sdk_tags(&tags)));
                sent.send()
                    .await
                    .map(drop)
                    .map_err(|error| $crate::errors::sdk_error(&format!("tagging {arn}"), error))
            };
            $crate::resources::sync_tags(old, new, untag, tag).await
        }
    };
}
pub(crate) use arn_tagging;

/// The calls for one resource type.
#[async_trait]
pub trait Handler: Send + Sync {
    /// Creates the resource; returns its outputs.
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs>;

    /// Updates it in place. Types whose every input forces replacement keep this default.
    async fn update(&self, cx: &Context<'_>, _prior: &RecordedResource) -> Result<Outputs> {
        Err(AwsError::new(format!(
            "{} cannot be changed in place: the plan should have replaced it; report this as a bug",
            cx.request.type_token
        )))
    }

    /// Deletes it; succeeds when it is already gone.
    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()>;

    /// Reads it back, or `None` when it is gone.
    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>>;

    /// Finds the resource carrying this URN's ownership tag (or deterministic name), passing
    /// over the one [`Context::is_replaced`] names.
    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>>;

    /// Reads a data source. Only data source types implement it.
    async fn read_data_source(&self, cx: &Context<'_>) -> Result<Outputs> {
        Err(AwsError::new(format!("{} is not a data source", cx.request.type_token)))
    }
}

/// The handler of `type_token`, if cairn-aws knows the type.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    let service = type_token.strip_prefix("aws:")?.split('/').next()?;
    match service {
        "ec2" => ec2::handler(type_token),
        "iam" => iam::handler(type_token),
        "s3" => s3::handler(type_token),
        "kms" => kms::handler(type_token),
        "secretsmanager" => secretsmanager::handler(type_token),
        "cloudwatch" => cloudwatch::handler(type_token),
        "logs" => logs::handler(type_token),
        "config" => config::handler(type_token),
        _ => None,
    }
}

/// Sends `create`, a call AWS does not make idempotent (no client token, no unique name), so
/// that an answer lost after AWS acted never makes a second resource. `create` sends its call
/// with the SDK's retries off (`ec2::once`, `kms::once`); after a failure that may have reached
/// AWS, the pause the SDK would take is taken, then `find` looks for what the attempt made (by
/// the ownership tag the create sets in the same call) and takes it. Only when nothing is
/// there is the create sent again, up to the SDK's number of attempts.
pub async fn create_unless_made<T, C, CF, F, FF>(
    cx: &Context<'_>,
    mut create: C,
    mut find: F,
) -> Result<T>
where
    C: FnMut() -> CF,
    CF: Future<Output = Result<T>>,
    F: FnMut() -> FF,
    FF: Future<Output = Result<Option<T>>>,
{
    let retries = cx.clients.sdk.retry_config().cloned().unwrap_or_else(RetryConfig::standard);
    let mut pause = retries.initial_backoff();
    let mut attempt = 1;
    loop {
        let error = match create().await {
            Err(error) if error.transient => error,
            done => return done,
        };
        tokio::time::sleep(pause).await;
        if let Some(made) = find().await? {
            tracing::info!("{}; the resource was made all the same, so it is taken", error.message);
            return Ok(made);
        }
        if attempt >= retries.max_attempts() {
            return Err(error);
        }
        tracing::info!(
            "{} (attempt {attempt}); nothing was made, so it is sent again",
            error.message
        );
        pause = (pause * 2).min(retries.max_backoff());
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_read_back_as_integers() {
        assert_eq!(number_value(5.0), json!(5));
        assert_eq!(number_value(-2.0), json!(-2));
        assert_eq!(number_value(0.5), json!(0.5));
    }

    #[test]
    fn documents_match_whatever_aws_did_to_them() {
        let asked = r#"{"Version": "2012-10-17", "Statement": []}"#;
        let encoded = "%7B%22Statement%22%3A%5B%5D%2C%22Version%22%3A%222012-10-17%22%7D";
        assert_eq!(observed_document(encoded, Some(asked)), json!(asked));
        let other = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny"}]}"#;
        assert_eq!(
            observed_document(other, Some(asked)),
            json!(r#"{"Statement":[{"Effect":"Deny"}],"Version":"2012-10-17"}"#)
        );
        assert_eq!(observed_document("%zz", None), json!("%zz"));
    }

    #[test]
    fn tag_changes_list_removed_keys_and_new_values() {
        let old =
            Some(BTreeMap::from([("a".to_owned(), "1".to_owned()), ("b".into(), "2".into())]));
        let new =
            Some(BTreeMap::from([("b".to_owned(), "3".to_owned()), ("c".into(), "4".into())]));
        let changes = TagChanges::between(&old, &new);
        assert_eq!(changes.removed, vec!["a".to_owned()]);
        assert_eq!(
            changes.changed,
            BTreeMap::from([("b".to_owned(), "3".to_owned()), ("c".into(), "4".into())])
        );
        assert_eq!(TagChanges::between(&new, &new), TagChanges::default());
        assert!(TagChanges::between(&None, &new).removed.is_empty());
    }

    #[test]
    fn observed_tags_leave_out_cairns_own() {
        let tags = [("cairn:urn", "urn:x"), ("Env", "dev")];
        assert_eq!(observed_tags(tags), Some(json!({"Env": "dev"})));
        assert_eq!(observed_tags([("cairn:urn", "urn:x")]), None);
        assert!(owned_by(tags, "urn:x"));
        assert!(!owned_by(tags, "urn:y"));
    }
}
