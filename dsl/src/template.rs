//! JSON documents with placeholders: IAM policies and dashboards written as `json!` with
//! `${name}` where an output goes.

use std::collections::BTreeMap;

use cairn_engine::Input;
use serde_json::Value;

/// A JSON document input from `document`, where every `${name}` inside a string is replaced
/// by the input `values` gives for `name` (a whole string becomes that input; a placeholder
/// inside a longer string becomes interpolation). The result is sent as a JSON string.
///
/// ```
/// use cairn_dsl::json_template;
/// use cairn_engine::Input;
/// use serde_json::json;
///
/// let policy = json_template(
///     json!({"Statement": [{"Resource": "${bucket}/*"}]}),
///     [("bucket", Input::string("arn:aws:s3:::logs"))],
/// );
/// let resolved = policy.resolve(&|_| None);
/// assert_eq!(resolved, json!(r#"{"Statement":[{"Resource":"arn:aws:s3:::logs/*"}]}"#));
/// ```
pub fn json_template<'a>(
    document: Value,
    values: impl IntoIterator<Item = (&'a str, Input)>,
) -> Input {
    let values: BTreeMap<&str, Input> = values.into_iter().collect();
    Input::Json(Box::new(substitute(document, &values)))
}

fn substitute(value: Value, values: &BTreeMap<&str, Input>) -> Input {
    match value {
        Value::String(text) => substitute_text(&text, values),
        Value::Array(items) => Input::from(
            items.into_iter().map(|item| substitute(item, values)).collect::<Vec<Input>>(),
        ),
        Value::Object(entries) => Input::from(
            entries
                .into_iter()
                .map(|(key, entry)| (key, substitute(entry, values)))
                .collect::<BTreeMap<String, Input>>(),
        ),
        other => Input::Literal(other),
    }
}

/// A string with placeholders: literal parts and inputs, concatenated.
fn substitute_text(text: &str, values: &BTreeMap<&str, Input>) -> Input {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(length) = rest[start..].find('}') else { break };
        let name = &rest[start + 2..start + length];
        let Some(value) = values.get(name) else { break };
        if start > 0 {
            parts.push(Input::string(&rest[..start]));
        }
        parts.push(value.clone());
        rest = &rest[start + length + 1..];
    }
    if !rest.is_empty() {
        parts.push(Input::string(rest));
    }
    match parts.len() {
        0 => Input::string(""),
        1 => parts.remove(0),
        _ => Input::Concat(parts),
    }
}
