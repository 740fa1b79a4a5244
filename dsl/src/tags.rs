//! AWS's limits on tags, checked for every taggable type.

use cairn_engine::{InputIssue, ResourceView};
use serde_json::Value;

use crate::TAGS;

/// The most tags AWS accepts on one resource.
const MOST_TAGS: usize = 50;
/// The longest tag key.
const LONGEST_KEY: usize = 128;
/// The longest tag value.
const LONGEST_VALUE: usize = 256;

/// Whether a character may appear in a tag key or value.
fn allowed(character: char) -> bool {
    character.is_alphanumeric() || " _.:/=+-@".contains(character)
}

/// The problems with a resource's literal tags: count, key and value lengths, characters,
/// and the reserved prefixes: `aws:` (AWS's) and `cairn:` (the ownership tag a provider
/// adds, which a user's tag of that name would overwrite or strip).
pub fn tag_issues(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let Some(Value::Object(tags)) = view.input(TAGS).and_then(|input| input.as_literal()) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    if tags.len() > MOST_TAGS {
        found.push(InputIssue::new(
            TAGS,
            format!("{} tags", tags.len()),
            format!("keep {MOST_TAGS} or fewer"),
        ));
    }
    for (key, value) in tags {
        let value = value.as_str().unwrap_or_default();
        let problem = match () {
            _ if key.is_empty() || key.chars().count() > LONGEST_KEY => {
                Some(format!("tag key `{key}` has {} characters", key.chars().count()))
            }
            _ if key.to_ascii_lowercase().starts_with("aws:") => {
                Some(format!("tag key `{key}` uses the reserved prefix `aws:`"))
            }
            _ if key.to_ascii_lowercase().starts_with("cairn:") => Some(format!(
                "tag key `{key}` uses the prefix `cairn:`, which cairn reserves for the \
                 ownership tag that lets it find what it created"
            )),
            _ if value.chars().count() > LONGEST_VALUE => {
                Some(format!("the value of tag `{key}` has {} characters", value.chars().count()))
            }
            _ if !key.chars().chain(value.chars()).all(allowed) => {
                Some(format!("tag `{key}` = `{value}` has characters AWS refuses"))
            }
            _ => None,
        };
        if let Some(problem) = problem {
            found.push(InputIssue::new(
                TAGS,
                problem,
                format!(
                    "use keys of 1 to {LONGEST_KEY} and values of up to {LONGEST_VALUE} letters, \
                     digits, spaces and _.:/=+-@, without the aws: or cairn: prefix"
                ),
            ));
        }
    }
    found
}
