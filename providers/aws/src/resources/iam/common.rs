//! Helpers the IAM, S3, KMS and Secrets Manager handlers share: policy documents as AWS
//! returns them, tags outside EC2, "gone" answers and inputs only cairn knows.

use std::collections::BTreeMap;
use std::future::Future;

use cairn_engine::RecordedResource;
use serde_json::{Value, json};

use crate::errors::{AwsError, Result, iam_not_yet_propagated, missing};
use crate::resources::Context;

/// The string input `property`, or an error saying the program must set it.
pub fn required<'a>(
    cx: &Context<'_>,
    value: &'a Option<String>,
    property: &str,
) -> Result<&'a str> {
    value.as_deref().ok_or_else(|| missing(&cx.request.type_token, property))
}

/// A value an SDK builder made, or an error naming `what` it was making.
pub fn built<T, E: std::fmt::Display>(result: std::result::Result<T, E>, what: &str) -> Result<T> {
    result.map_err(|error| AwsError::new(format!("cannot make {what}: {error}")))
}

/// Absent (`None`) when `result` failed because the thing does not exist.
pub fn absent_as_none<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
    }
}

/// Success when `result` failed because the thing is already gone.
pub fn gone_is_done(result: Result<()>) -> Result<()> {
    absent_as_none(result).map(|_| ())
}

/// Codes that mean an IAM role (or a principal a policy names) is not visible yet: IAM's
/// `NoSuchEntity`, KMS's `MalformedPolicyDocumentException`, and the common IAM codes.
pub fn principal_not_yet_visible(code: &str) -> bool {
    matches!(code, "NoSuchEntity" | "MalformedPolicyDocumentException")
        || iam_not_yet_propagated(code)
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

/// The program's tags among `pairs` (cairn's own left out), as an observed input: absent
/// when there are none.
pub fn observed_tags<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Option<Value> {
    let tags: BTreeMap<String, String> = pairs
        .into_iter()
        .filter(|(key, _)| !key.as_ref().starts_with("cairn:"))
        .map(|(key, value)| (key.as_ref().to_owned(), value.as_ref().to_owned()))
        .collect();
    (!tags.is_empty()).then(|| json!(tags))
}

/// Makes a resource's tags go from `old` to `new` (cairn's own untouched) through its
/// service's calls: `untag` removes keys, `tag` adds or overwrites tags.
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
    if old == new {
        return Ok(());
    }
    let removed = removed_tag_keys(old, new);
    if !removed.is_empty() {
        untag(removed).await?;
    }
    let wanted = new.clone().unwrap_or_default();
    if !wanted.is_empty() {
        tag(wanted).await?;
    }
    Ok(())
}

/// The tag keys in `old` that `new` no longer has.
fn removed_tag_keys(
    old: &Option<BTreeMap<String, String>>,
    new: &Option<BTreeMap<String, String>>,
) -> Vec<String> {
    let new = new.clone().unwrap_or_default();
    old.iter()
        .flatten()
        .map(|(key, _)| key)
        .filter(|key| !new.contains_key(*key))
        .cloned()
        .collect()
}

/// An input AWS does not keep (it only steers cairn, like `force_destroy`), observed as
/// recorded.
pub fn recorded_input(prior: &RecordedResource, property: &str) -> Option<Value> {
    prior.inputs.get(property).filter(|value| !value.is_null()).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn removed_tags_are_the_old_keys_only() {
        let old = Some(BTreeMap::from([("a".into(), "1".into()), ("b".into(), "2".into())]));
        let new = Some(BTreeMap::from([("b".into(), "3".into())]));
        assert_eq!(removed_tag_keys(&old, &new), ["a"]);
        assert!(removed_tag_keys(&None, &new).is_empty());
    }
}
