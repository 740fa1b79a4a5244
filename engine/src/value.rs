//! Input values as a program declares them, and the markers resolved values carry.
//!
//! A program's inputs are [`Input`]s: literal JSON, references to another resource's
//! outputs, string interpolation over them, JSON documents built from them, and secrets.
//! Resolving an input against what is known gives a plain [`serde_json::Value`] in which two
//! markers may appear:
//!
//! - `{"$secret": v}`: a sensitive value. It is redacted in plans and output, and the state
//!   store encrypts it at rest.
//! - `{"$unknown": true}`: a value that is only known after apply (the output of a resource
//!   that does not exist yet). It never reaches a provider or the state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The key of the marker object that wraps a sensitive value.
pub const SECRET_KEY: &str = "$secret";
/// The key of the marker object that stands for a value known only after apply.
pub const UNKNOWN_KEY: &str = "$unknown";

/// A reference to a named output of another resource of the same stack.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OutputRef {
    /// The logical name of the resource that produces the output.
    pub resource: String,
    /// The name of the output, for example `id` or `arn`.
    pub output: String,
}

/// A value a program gives to a resource property or a stack output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// A literal JSON value, known when the program runs.
    Literal(Value),
    /// The output of another resource: an edge of the dependency graph.
    Ref(OutputRef),
    /// String interpolation: every part is resolved and the results are concatenated.
    Concat(Vec<Input>),
    /// A list whose elements may be references.
    List(Vec<Input>),
    /// An object whose values may be references.
    Map(BTreeMap<String, Input>),
    /// A JSON document (an IAM policy, a dashboard body) serialized to a string once its
    /// inner references are known.
    Json(Box<Input>),
    /// A sensitive value: redacted in plans, logs and output, encrypted in state.
    Secret(Box<Input>),
}

impl Input {
    /// This input with every secret in it replaced by `placeholder`, and every literal
    /// value's secret markers redacted likewise.
    pub fn redacted(&self, placeholder: &str) -> Input {
        let each =
            |inputs: &[Input]| inputs.iter().map(|input| input.redacted(placeholder)).collect();
        match self {
            Input::Literal(value) => Input::Literal(redact(value, placeholder)),
            Input::Ref(reference) => Input::Ref(reference.clone()),
            Input::Concat(parts) => Input::Concat(each(parts)),
            Input::List(items) => Input::List(each(items)),
            Input::Map(entries) => Input::Map(
                entries
                    .iter()
                    .map(|(key, input)| (key.clone(), input.redacted(placeholder)))
                    .collect(),
            ),
            Input::Json(inner) => Input::Json(Box::new(inner.redacted(placeholder))),
            Input::Secret(_) => Input::Secret(Box::new(Input::string(placeholder))),
        }
    }

    /// A literal string.
    pub fn string(text: impl Into<String>) -> Self {
        Input::Literal(Value::String(text.into()))
    }

    /// Calls `visit` with every output reference inside this input, in order.
    pub fn for_each_ref<'a>(&'a self, visit: &mut impl FnMut(&'a OutputRef)) {
        match self {
            Input::Literal(_) => {}
            Input::Ref(reference) => visit(reference),
            Input::Concat(parts) | Input::List(parts) => {
                parts.iter().for_each(|part| part.for_each_ref(visit))
            }
            Input::Map(entries) => entries.values().for_each(|entry| entry.for_each_ref(visit)),
            Input::Json(inner) | Input::Secret(inner) => inner.for_each_ref(visit),
        }
    }

    /// The literal value, when this input holds no reference at all.
    pub fn as_literal(&self) -> Option<&Value> {
        match self {
            Input::Literal(value) => Some(value),
            _ => None,
        }
    }

    /// The literal string, when this input is one.
    pub fn as_literal_str(&self) -> Option<&str> {
        self.as_literal().and_then(Value::as_str)
    }

    /// Resolves this input with `lookup`, which answers each reference with the output's
    /// value or `None` when it is not known yet.
    pub fn resolve(&self, lookup: &impl Fn(&OutputRef) -> Option<Value>) -> Value {
        match self {
            Input::Literal(value) => value.clone(),
            Input::Ref(reference) => lookup(reference).unwrap_or_else(unknown),
            Input::Concat(parts) => {
                let resolved: Vec<Value> = parts.iter().map(|part| part.resolve(lookup)).collect();
                concat_strings(&resolved)
            }
            Input::List(items) => Value::Array(items.iter().map(|i| i.resolve(lookup)).collect()),
            Input::Map(entries) => Value::Object(
                entries.iter().map(|(key, entry)| (key.clone(), entry.resolve(lookup))).collect(),
            ),
            Input::Json(inner) => json_document(inner.resolve(lookup)),
            Input::Secret(inner) => secret(inner.resolve(lookup)),
        }
    }
}

impl From<&str> for Input {
    fn from(text: &str) -> Self {
        Input::string(text)
    }
}

impl From<String> for Input {
    fn from(text: String) -> Self {
        Input::Literal(Value::String(text))
    }
}

impl From<&String> for Input {
    fn from(text: &String) -> Self {
        Input::string(text.as_str())
    }
}

impl From<bool> for Input {
    fn from(flag: bool) -> Self {
        Input::Literal(Value::Bool(flag))
    }
}

impl From<i64> for Input {
    fn from(number: i64) -> Self {
        Input::Literal(Value::from(number))
    }
}

impl From<i32> for Input {
    fn from(number: i32) -> Self {
        Input::Literal(Value::from(number))
    }
}

impl From<u16> for Input {
    fn from(number: u16) -> Self {
        Input::Literal(Value::from(number))
    }
}

impl From<u32> for Input {
    fn from(number: u32) -> Self {
        Input::Literal(Value::from(number))
    }
}

impl From<f64> for Input {
    fn from(number: f64) -> Self {
        Input::Literal(Value::from(number))
    }
}

impl From<Value> for Input {
    fn from(value: Value) -> Self {
        Input::Literal(value)
    }
}

impl From<OutputRef> for Input {
    fn from(reference: OutputRef) -> Self {
        Input::Ref(reference)
    }
}

impl<T: Into<Input>> From<Vec<T>> for Input {
    fn from(items: Vec<T>) -> Self {
        let items: Vec<Input> = items.into_iter().map(Into::into).collect();
        match items.iter().map(Input::as_literal).collect::<Option<Vec<&Value>>>() {
            Some(literals) => Input::Literal(Value::Array(literals.into_iter().cloned().collect())),
            None => Input::List(items),
        }
    }
}

impl<T: Into<Input>> From<BTreeMap<String, T>> for Input {
    fn from(entries: BTreeMap<String, T>) -> Self {
        let entries: BTreeMap<String, Input> =
            entries.into_iter().map(|(key, entry)| (key, entry.into())).collect();
        if entries.values().all(|entry| entry.as_literal().is_some()) {
            let object: Map<String, Value> = entries
                .into_iter()
                .filter_map(|(key, entry)| match entry {
                    Input::Literal(value) => Some((key, value)),
                    _ => None,
                })
                .collect();
            Input::Literal(Value::Object(object))
        } else {
            Input::Map(entries)
        }
    }
}

/// The marker for a value known only after apply.
pub fn unknown() -> Value {
    let mut marker = Map::new();
    marker.insert(UNKNOWN_KEY.to_owned(), Value::Bool(true));
    Value::Object(marker)
}

/// Wraps `value` as sensitive. Wrapping twice is the same as wrapping once.
pub fn secret(value: Value) -> Value {
    if is_secret(&value) {
        return value;
    }
    let mut marker = Map::new();
    marker.insert(SECRET_KEY.to_owned(), value);
    Value::Object(marker)
}

/// Whether `value` is the unknown marker.
pub fn is_unknown(value: &Value) -> bool {
    marker_value(value, UNKNOWN_KEY).is_some()
}

/// Whether `value` is wrapped as sensitive.
pub fn is_secret(value: &Value) -> bool {
    marker_value(value, SECRET_KEY).is_some()
}

/// Whether `value` or anything inside it is unknown.
pub fn contains_unknown(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().any(contains_unknown),
        Value::Object(_) if is_unknown(value) => true,
        Value::Object(_) if is_secret(value) => {
            marker_value(value, SECRET_KEY).is_some_and(contains_unknown)
        }
        Value::Object(entries) => entries.values().any(contains_unknown),
        _ => false,
    }
}

/// `value` with what every secret marker holds replaced by `placeholder` (markers kept, so
/// the document still says which values are secret): what a plan document shows.
pub fn redact(value: &Value, placeholder: &str) -> Value {
    match value {
        Value::Object(_) if is_secret(value) => secret(Value::String(placeholder.to_owned())),
        Value::Object(entries) => Value::Object(
            entries.iter().map(|(key, entry)| (key.clone(), redact(entry, placeholder))).collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.iter().map(|item| redact(item, placeholder)).collect())
        }
        other => other.clone(),
    }
}

/// `value` with every secret marker removed: what a provider is given to send to the cloud.
pub fn reveal(value: &Value) -> Value {
    match value {
        Value::Object(_) if is_secret(value) => {
            marker_value(value, SECRET_KEY).map(reveal).unwrap_or(Value::Null)
        }
        Value::Object(entries) => {
            Value::Object(entries.iter().map(|(key, entry)| (key.clone(), reveal(entry))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(reveal).collect()),
        other => other.clone(),
    }
}

fn marker_value<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    match value {
        Value::Object(entries) if entries.len() == 1 => entries.get(key),
        _ => None,
    }
}

/// Concatenates resolved parts as strings. Unknown anywhere makes the result unknown; a
/// secret anywhere makes the result secret.
fn concat_strings(parts: &[Value]) -> Value {
    if parts.iter().any(contains_unknown) {
        return unknown();
    }
    let sensitive = parts.iter().any(contains_secret);
    let text: String = parts.iter().map(|part| display_plain(&reveal(part))).collect();
    wrap_if(sensitive, Value::String(text))
}

/// Serializes a resolved document to a canonical JSON string (sorted keys, compact).
fn json_document(document: Value) -> Value {
    if contains_unknown(&document) {
        return unknown();
    }
    let sensitive = contains_secret(&document);
    wrap_if(sensitive, Value::String(reveal(&document).to_string()))
}

fn wrap_if(sensitive: bool, value: Value) -> Value {
    if sensitive { secret(value) } else { value }
}

/// Whether `value` or anything inside it is sensitive.
pub fn contains_secret(value: &Value) -> bool {
    match value {
        Value::Object(_) if is_secret(value) => true,
        Value::Object(entries) => entries.values().any(contains_secret),
        Value::Array(items) => items.iter().any(contains_secret),
        _ => false,
    }
}

/// A value as it reads inside an interpolated string: strings without quotes.
fn display_plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_every_secret_and_keeps_the_rest() {
        let input = Input::Concat(vec![
            Input::string("role-"),
            Input::Secret(Box::new(Input::string("hidden-1"))),
            Input::Literal(
                serde_json::json!({"nested": {"$secret": "hidden-2"}, "plain": "shown"}),
            ),
        ]);
        let redacted = serde_json::to_string(&input.redacted("(sensitive)")).expect("json");
        assert!(!redacted.contains("hidden"), "{redacted}");
        assert!(redacted.contains("role-") && redacted.contains("shown"), "{redacted}");
        let value = serde_json::json!([{"$secret": {"deep": "hidden-3"}}, "shown"]);
        assert_eq!(redact(&value, "x"), serde_json::json!([{"$secret": "x"}, "shown"]));
    }
    use serde_json::json;

    fn reference(resource: &str, output: &str) -> Input {
        Input::Ref(OutputRef { resource: resource.into(), output: output.into() })
    }

    #[test]
    fn interpolation_is_unknown_until_every_part_is_known() {
        let arn = Input::Concat(vec!["arn:aws:s3:::".into(), reference("bucket", "name")]);
        assert!(is_unknown(&arn.resolve(&|_| None)));
        let known = arn.resolve(&|_| Some(json!("logs-x1")));
        assert_eq!(known, json!("arn:aws:s3:::logs-x1"));
    }

    #[test]
    fn json_documents_are_canonical_and_secret_taints_the_whole_string() {
        let policy = Input::Json(Box::new(Input::Map(BTreeMap::from([
            ("b".to_owned(), Input::Secret(Box::new("hidden".into()))),
            ("a".to_owned(), reference("role", "arn")),
        ]))));
        let resolved = policy.resolve(&|_| Some(json!("arn:x")));
        assert!(is_secret(&resolved));
        assert_eq!(reveal(&resolved), json!(r#"{"a":"arn:x","b":"hidden"}"#));
    }

    #[test]
    fn lists_of_literals_stay_literal() {
        let cidrs: Input = vec!["10.0.0.0/16", "10.1.0.0/16"].into();
        assert_eq!(cidrs.as_literal(), Some(&json!(["10.0.0.0/16", "10.1.0.0/16"])));
    }

    #[test]
    fn references_are_visited_in_order() {
        let input = Input::List(vec![reference("a", "id"), "x".into(), reference("b", "arn")]);
        let mut seen = Vec::new();
        input.for_each_ref(&mut |r| seen.push(r.resource.clone()));
        assert_eq!(seen, ["a", "b"]);
    }
}
