//! Tree names and key layouts.
//!
//! | tree        | key                                  | value (enveloped JSON)          |
//! |-------------|--------------------------------------|---------------------------------|
//! | `metadata`  | `state`                              | lineage, serial, last apply id  |
//! | `resources` | URN                                  | `ResourceRecord`                |
//! | `outputs`   | `outputs`                            | all stack outputs, one map      |
//! | `bindings`  | binding name                         | the binding's configuration     |
//! | `journal`   | URN (`\0replaced` appended for the  | `PendingOperation`              |
//! |             | delete of a replaced resource)       |                                 |
//! | `history`   | apply id (u64 BE) ++ tag ++ URN      | header, previous record/outputs |
//!
//! History tags: 0 = the apply's header, 1 = a resource's previous version (followed by the
//! URN), 2 = the previous stack outputs. Big-endian ids keep one apply's entries together and
//! the applies in order, so pruning is one range.

use crate::model::PendingKind;

pub(crate) const METADATA: &str = "metadata";
pub(crate) const RESOURCES: &str = "resources";
pub(crate) const OUTPUTS: &str = "outputs";
pub(crate) const BINDINGS: &str = "bindings";
pub(crate) const JOURNAL: &str = "journal";
pub(crate) const HISTORY: &str = "history";

/// The key of the one record in `metadata`.
pub(crate) const STATE_KEY: &[u8] = b"state";
/// The key of the one record in `outputs`.
pub(crate) const OUTPUTS_KEY: &[u8] = b"outputs";

/// What follows the URN in the journal key of a [`PendingKind::DeleteReplaced`] entry (a NUL
/// cannot occur in a URN), so that it never shares a key with the replacement's own entry.
const REPLACED_SUFFIX: &str = "\0replaced";

const HEADER_TAG: u8 = 0;
const RESOURCE_TAG: u8 = 1;
const OUTPUTS_TAG: u8 = 2;

/// A parsed `history` key.
#[derive(Debug, PartialEq)]
pub(crate) enum HistoryKey<'a> {
    /// The header of apply `id`.
    Header(u64),
    /// The previous version of `urn` before apply `id` changed it.
    Resource(u64, &'a str),
    /// The stack outputs before apply `id` replaced them.
    Outputs(u64),
}

/// The first key of apply `id`: every key of older applies sorts before it.
pub(crate) fn apply_start(id: u64) -> [u8; 8] {
    id.to_be_bytes()
}

/// The key of apply `id`'s header.
pub(crate) fn apply_header(id: u64) -> Vec<u8> {
    tagged(id, HEADER_TAG, "")
}

/// The key of the previous version of `urn` in apply `id`.
pub(crate) fn apply_resource(id: u64, urn: &str) -> Vec<u8> {
    tagged(id, RESOURCE_TAG, urn)
}

/// The key of the previous stack outputs in apply `id`.
pub(crate) fn apply_outputs(id: u64) -> Vec<u8> {
    tagged(id, OUTPUTS_TAG, "")
}

/// The key of a journal entry about `urn`.
pub(crate) fn journal(urn: &str, kind: PendingKind) -> Vec<u8> {
    match kind {
        PendingKind::DeleteReplaced => format!("{urn}{REPLACED_SUFFIX}").into_bytes(),
        PendingKind::Create | PendingKind::Update | PendingKind::Delete => urn.as_bytes().to_vec(),
    }
}

fn tagged(id: u64, tag: u8, urn: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(9 + urn.len());
    key.extend_from_slice(&id.to_be_bytes());
    key.push(tag);
    key.extend_from_slice(urn.as_bytes());
    key
}

/// Parses a `history` key; `None` when it has none of the layouts above.
pub(crate) fn parse_history(key: &[u8]) -> Option<HistoryKey<'_>> {
    let (id, rest) = key.split_first_chunk::<8>()?;
    let id = u64::from_be_bytes(*id);
    match rest.split_first()? {
        (&HEADER_TAG, []) => Some(HistoryKey::Header(id)),
        (&OUTPUTS_TAG, []) => Some(HistoryKey::Outputs(id)),
        (&RESOURCE_TAG, urn) => {
            std::str::from_utf8(urn).ok().map(|urn| HistoryKey::Resource(id, urn))
        }
        _ => None,
    }
}

/// Makes a key readable for error messages.
pub(crate) fn display(tree: &str, key: &[u8]) -> String {
    if tree == HISTORY {
        match parse_history(key) {
            Some(HistoryKey::Header(id)) => return format!("apply {id}"),
            Some(HistoryKey::Resource(id, urn)) => return format!("apply {id} {urn}"),
            Some(HistoryKey::Outputs(id)) => return format!("apply {id} outputs"),
            None => {}
        }
    }
    let key = String::from_utf8_lossy(key);
    match key.strip_suffix(REPLACED_SUFFIX) {
        Some(urn) if tree == JOURNAL => format!("{urn} (the resource it replaced)"),
        _ => key.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keys_round_trip_and_sort_by_apply() {
        assert_eq!(parse_history(&apply_header(3)), Some(HistoryKey::Header(3)));
        assert_eq!(parse_history(&apply_outputs(3)), Some(HistoryKey::Outputs(3)));
        assert_eq!(
            parse_history(&apply_resource(3, "urn:a")),
            Some(HistoryKey::Resource(3, "urn:a"))
        );
        assert_eq!(parse_history(&apply_resource(3, "")), Some(HistoryKey::Resource(3, "")));
        assert!(apply_resource(255, "z").as_slice() < apply_header(256).as_slice());
        assert!(apply_start(4).as_slice() > apply_outputs(3).as_slice());
        assert_eq!(parse_history(b"short"), None);
    }

    #[test]
    fn display_names_history_keys() {
        assert_eq!(display(HISTORY, &apply_resource(7, "urn:x")), "apply 7 urn:x");
        assert_eq!(display(RESOURCES, b"urn:x"), "urn:x");
        let replaced = journal("urn:x", PendingKind::DeleteReplaced);
        assert_eq!(display(JOURNAL, &replaced), "urn:x (the resource it replaced)");
        assert_eq!(journal("urn:x", PendingKind::Delete), b"urn:x");
    }
}
