//! CloudWatch alarms and dashboards, and what the monitoring handlers (CloudWatch, Logs,
//! Config) share: argument conversions, tag changes, not-found handling.

mod alarm;
mod dashboard;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::errors::{AwsError, Result, missing};
use crate::resources::{Handler, OWNERSHIP_TAG};

/// The handler of a type token of this module.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    match type_token {
        "aws:cloudwatch/MetricAlarm" => Some(&alarm::MetricAlarmHandler),
        "aws:cloudwatch/Dashboard" => Some(&dashboard::DashboardHandler),
        _ => None,
    }
}

/// A string input the call needs.
pub(crate) fn required<'a>(
    value: &'a Option<String>,
    type_token: &str,
    property: &str,
) -> Result<&'a str> {
    value.as_deref().ok_or_else(|| missing(type_token, property))
}

/// An integer input as the `i32` the SDK takes.
pub(crate) fn int32(value: Option<i64>, type_token: &str, property: &str) -> Result<Option<i32>> {
    value
        .map(|number| {
            i32::try_from(number).map_err(|_| {
                AwsError::new(format!("{type_token}: `{property}` = {number} is out of range"))
            })
        })
        .transpose()
}

/// A number input as the `f64` the SDK takes.
pub(crate) fn float(
    value: &Option<Value>,
    type_token: &str,
    property: &str,
) -> Result<Option<f64>> {
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
pub(crate) fn number_value(number: f64) -> Value {
    let whole = number.fract() == 0.0 && number.abs() < 9.0e15;
    // The cast is exact: the number is whole and far inside the range of i64.
    if whole { json!(number as i64) } else { json!(number) }
}

/// A list read back as an observed input: absent when empty, as a program that sets none.
pub(crate) fn non_empty_list(items: &[String]) -> Option<Value> {
    (!items.is_empty()).then(|| json!(items))
}

/// How a resource's tags go from `old` to `new` (the program's tags; cairn's own untouched).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct TagChanges {
    /// The keys to remove.
    pub removed: Vec<String>,
    /// The tags to add or change.
    pub changed: BTreeMap<String, String>,
}

impl TagChanges {
    /// The changes from `old` to `new`.
    pub fn between(
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

/// The program's tags among a resource's tags (cairn's own left out), as an observed input:
/// absent when there are none.
pub(crate) fn observed_tag_map<'a>(
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<Value> {
    let tags: BTreeMap<&str, &str> =
        tags.into_iter().filter(|(key, _)| !key.starts_with("cairn:")).collect();
    (!tags.is_empty()).then(|| json!(tags))
}

/// Whether a resource's tags carry the ownership tag of `urn`.
pub(crate) fn owned_by<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>, urn: &str) -> bool {
    tags.into_iter().any(|(key, value)| key == OWNERSHIP_TAG && value == urn)
}

/// `Ok(None)` when the call failed because the resource does not exist.
pub(crate) fn absent_when_gone<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
    }
}

/// Success when the call failed because the resource is already gone (for deletes).
pub(crate) fn done_when_gone<T>(result: Result<T>) -> Result<()> {
    absent_when_gone(result).map(|_| ())
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
    }

    #[test]
    fn observed_tags_leave_out_cairns_own() {
        let tags = [("cairn:urn", "urn:x"), ("Env", "dev")];
        assert_eq!(observed_tag_map(tags), Some(json!({"Env": "dev"})));
        assert_eq!(observed_tag_map([("cairn:urn", "urn:x")]), None);
        assert!(owned_by(tags, "urn:x"));
        assert!(!owned_by(tags, "urn:y"));
    }
}
