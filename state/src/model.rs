//! The plain data the store reads and writes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The state's identity and version: what a plan file records to refuse a stale apply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The schema version the state was written with.
    pub schema_version: u16,
    /// A random hex id made once, when the state was created. It never changes, so two states
    /// with different lineages are different stacks. Empty when no state exists yet (only seen
    /// through [`Store::open_read_only`](crate::Store::open_read_only) on a missing state).
    pub lineage: String,
    /// Bumped by one on every change to the resources; never otherwise.
    pub serial: u64,
}

/// One resource as the state knows it, keyed by its URN.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceRecord {
    /// The resource's identity: stack + provider binding + type + name.
    pub urn: String,
    /// The resource type, e.g. `aws:ec2/Vpc`.
    pub type_token: String,
    /// The logical name, unique in the stack.
    pub name: String,
    /// The provider binding (account + region) the resource lives in.
    pub binding: String,
    /// The inputs it was created or last updated with.
    pub inputs: Value,
    /// What the provider returned (ids, ARNs, status).
    pub outputs: Value,
    /// The URNs of the resources it depends on.
    pub dependencies: Vec<String>,
}

/// What an apply was doing when it registered in the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    /// `cairn apply`.
    Apply,
    /// `cairn destroy`.
    Destroy,
    /// `cairn refresh`.
    Refresh,
}

/// The provider call a [`PendingOperation`] was about to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingKind {
    /// Creating the resource.
    Create,
    /// Updating it in place.
    Update,
    /// Deleting it.
    Delete,
    /// Deleting the resource a create-before-delete replacement replaced (what Terraform
    /// calls a deposed object). The URN's record already holds the replacement, so this entry
    /// alone remembers the old resource until it is gone; it has its own place in the
    /// journal, beside any entry of the replacement, and recovery deletes what it names.
    DeleteReplaced,
}

/// A journal entry: a provider call that started and has not been recorded as finished.
///
/// One found after a crash means the call may or may not have reached the provider: the engine
/// looks the resource up (by ownership tag or deterministic name) before doing anything else.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingOperation {
    /// The resource's URN (one pending operation per URN, and one more for the resource a
    /// replacement replaced: [`PendingKind::DeleteReplaced`]).
    pub urn: String,
    /// The resource type.
    pub type_token: String,
    /// The logical name.
    pub name: String,
    /// The provider binding.
    pub binding: String,
    /// The call that was started.
    pub kind: PendingKind,
    /// The inputs sent with the call.
    pub inputs: Value,
    /// The outputs recorded before the call (`null` for a create).
    pub prior_outputs: Value,
    /// When the call started, in seconds since the Unix epoch.
    pub started_at_unix: u64,
    /// The URNs of the resources it depends on, recorded if the resource is adopted.
    #[serde(default)]
    pub dependencies: Vec<String>,
}

/// Identifies one apply (or destroy or refresh) in the history. Ids only grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ApplyId(pub u64);

/// Everything in the state at one moment. The default is the empty state of a new stack.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Identity and version.
    pub metadata: Metadata,
    /// Every resource, by URN.
    pub resources: BTreeMap<String, ResourceRecord>,
    /// The stack outputs, by name.
    pub outputs: BTreeMap<String, Value>,
    /// The provider binding configurations, by binding name.
    pub bindings: BTreeMap<String, Value>,
    /// Journal entries left by calls that did not finish, ordered by URN.
    pub pending: Vec<PendingOperation>,
}

/// What one retained apply changed, as the versions it replaced: enough to audit or roll back.
#[derive(Clone, Debug, PartialEq)]
pub struct AppliedChanges {
    /// The apply.
    pub id: ApplyId,
    /// What kind of run it was.
    pub kind: OperationKind,
    /// When it started, in seconds since the Unix epoch.
    pub started_at_unix: u64,
    /// For every URN the apply changed, the record before its first change in that apply;
    /// `None` when the apply created it.
    pub previous_resources: BTreeMap<String, Option<ResourceRecord>>,
    /// The stack outputs before the apply replaced them; `None` when it did not replace them.
    pub previous_outputs: Option<BTreeMap<String, Value>>,
}

/// One finished operation, for [`Store::finish_all`](crate::Store::finish_all).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Finished<'a> {
    /// A create or update: the record as it now is.
    Put(&'a ResourceRecord),
    /// The create of a create-before-delete replacement: the record of the replacement, and
    /// the [`PendingKind::DeleteReplaced`] entry journaled in the same transaction, so that
    /// the old resource is never forgotten between its replacement and its delete.
    Replaced {
        /// The record of the replacement.
        record: &'a ResourceRecord,
        /// The delete of the resource it replaced, still to happen.
        replaced: &'a PendingOperation,
    },
    /// A delete: the URN that is gone.
    Remove(&'a str),
}

impl<'a> Finished<'a> {
    /// The URN it is about.
    pub fn urn(&self) -> &'a str {
        match self {
            Finished::Put(record) | Finished::Replaced { record, .. } => &record.urn,
            Finished::Remove(urn) => urn,
        }
    }

    /// The new record, for a put.
    pub fn record(&self) -> Option<&'a ResourceRecord> {
        match self {
            Finished::Put(record) | Finished::Replaced { record, .. } => Some(record),
            Finished::Remove(_) => None,
        }
    }
}
