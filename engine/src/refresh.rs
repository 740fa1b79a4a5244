//! Refresh: read every recorded resource back from the cloud, find what changed outside
//! cairn (drift), and record it, so that the next plan shows what bringing the cloud back in
//! line with the program takes. Like `terraform apply -refresh-only` and `pulumi refresh`.
//!
//! Finding drift ([`detect_drift`]) only reads, from the cloud and from a [`Snapshot`];
//! recording it ([`record_drift`]) only writes the state. A caller shows the report between
//! the two and asks.
//!
//! Only properties both the state and the cloud know are compared: a provider reports the
//! properties it can read back, and a property it cannot read is never drift.

use std::sync::Arc;

use cairn_state::{
    Finished, OperationKind as RunKind, ResourceRecord, Snapshot, StateError, Store,
};
use serde::Serialize;
use serde_json::{Map, Value};
use thiserror::Error;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::model::{ProviderBinding, Urn};
use crate::plan::{PlanError, recorded_bindings};
use crate::provider::{Observed, Provider, ProviderError, RecordedResource, ResourceRequest};
use crate::value::{is_secret, reveal, secret};

/// One property whose value in the cloud is not the one the state records.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PropertyDrift {
    /// The input property.
    pub property: String,
    /// What the state records (a secret stays wrapped).
    pub recorded: Value,
    /// What the cloud reports (wrapped as a secret when the recorded value is one).
    pub observed: Value,
}

/// How a resource drifted.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// It no longer exists: refresh forgets it, and the next plan creates it again.
    Deleted,
    /// Some of its inputs changed: refresh records them, and the next plan changes them back.
    Changed(Vec<PropertyDrift>),
}

/// A resource that drifted.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Drift {
    /// The resource's logical name.
    pub name: String,
    /// Its type.
    pub type_token: String,
    /// Its provider binding.
    pub binding: String,
    /// What changed.
    pub kind: DriftKind,
    /// The record as refresh writes it; `None` for a deleted resource.
    #[serde(skip)]
    pub refreshed: Option<ResourceRecord>,
    /// The URN, which refresh removes from the state for a deleted resource.
    pub urn: String,
}

/// A resource that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReadFailure {
    /// The resource's logical name.
    pub name: String,
    /// The provider's error.
    pub message: String,
}

/// What a refresh found.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DriftReport {
    /// Resources that drifted, ordered by URN.
    pub drift: Vec<Drift>,
    /// How many resources are as the state records them.
    pub in_sync: usize,
    /// Resources that could not be read: nothing is recorded about them.
    pub failed: Vec<ReadFailure>,
}

/// Why a refresh could not run.
#[derive(Debug, Error)]
pub enum RefreshError {
    /// The state store failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// A binding recorded in the state cannot be read.
    #[error(transparent)]
    Binding(#[from] PlanError),
    /// The credentials do not reach the accounts the state's resources live in.
    #[error("{0}")]
    Bindings(ProviderError),
}

/// Reads every resource of `snapshot` back through `provider`, at most `parallelism` at a
/// time, after checking that the credentials reach the accounts of their bindings.
///
/// # Errors
///
/// [`RefreshError::Bindings`] before any read when the credentials do not match; a binding
/// the state cannot describe.
pub async fn detect_drift(
    snapshot: &Snapshot,
    provider: Arc<dyn Provider>,
    parallelism: usize,
) -> Result<DriftReport, RefreshError> {
    let bindings = recorded_bindings(snapshot)?;
    let listed: Vec<ProviderBinding> = bindings.values().cloned().collect();
    provider.check_bindings(&listed).await.map_err(RefreshError::Bindings)?;

    let permits = Arc::new(Semaphore::new(parallelism.max(1)));
    let mut reads = JoinSet::new();
    for record in snapshot.resources.values().cloned() {
        let binding =
            bindings.get(&record.binding).cloned().ok_or_else(|| PlanError::UnreadableBinding {
                name: record.binding.clone(),
                reason: "no such binding".into(),
            })?;
        let (provider, permits) = (Arc::clone(&provider), Arc::clone(&permits));
        reads.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let observed = read_back(provider.as_ref(), &record, binding).await;
            (record, observed)
        });
    }
    let mut report = DriftReport::default();
    while let Some(joined) = reads.join_next().await {
        let (record, observed) =
            joined.unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
        match observed {
            Ok(observed) => match compare(&record, observed) {
                Some(drift) => report.drift.push(drift),
                None => report.in_sync += 1,
            },
            Err(error) => {
                report.failed.push(ReadFailure { name: record.name, message: error.message })
            }
        }
    }
    report.drift.sort_by(|a, b| a.urn.cmp(&b.urn));
    report.failed.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(report)
}

/// Records `report`'s drift in `store` in one transaction, as a run of kind refresh in its
/// history: a deleted resource is forgotten, a changed one is recorded as the cloud has it.
/// Returns the serial.
///
/// # Errors
///
/// A state store failure; then nothing of the drift was recorded.
pub fn record_drift(
    store: &Store,
    report: &DriftReport,
    started_at_unix: u64,
) -> Result<u64, StateError> {
    let run = store.begin_apply(RunKind::Refresh, started_at_unix)?;
    let changes: Vec<Finished<'_>> = report
        .drift
        .iter()
        .map(|drift| match &drift.refreshed {
            Some(record) => Finished::Put(record),
            None => Finished::Remove(&drift.urn),
        })
        .collect();
    let serial = store.record_all(run, &changes)?;
    store.flush()?;
    Ok(serial)
}

/// The resource `record` describes, as the cloud has it; `None` when it is gone.
async fn read_back(
    provider: &dyn Provider,
    record: &ResourceRecord,
    binding: ProviderBinding,
) -> Result<Option<Observed>, ProviderError> {
    let request = ResourceRequest {
        urn: Urn::from(record.urn.clone()),
        name: record.name.clone(),
        type_token: record.type_token.clone(),
        binding,
        inputs: reveal(&record.inputs),
        replacing: None,
    };
    let prior =
        RecordedResource { inputs: request.inputs.clone(), outputs: reveal(&record.outputs) };
    match provider.read(&request, &prior).await {
        Err(error) if error.not_found => Ok(None),
        other => other,
    }
}

/// The drift between `record` and what the cloud reports; `None` when there is none.
fn compare(record: &ResourceRecord, observed: Option<Observed>) -> Option<Drift> {
    let drift = |kind, refreshed| Drift {
        name: record.name.clone(),
        type_token: record.type_token.clone(),
        binding: record.binding.clone(),
        kind,
        refreshed,
        urn: record.urn.clone(),
    };
    let Some(observed) = observed else { return Some(drift(DriftKind::Deleted, None)) };
    let changed = changed_properties(record, &observed);
    if changed.is_empty() {
        return None;
    }
    Some(drift(DriftKind::Changed(changed), Some(as_observed(record, observed))))
}

/// The recorded properties whose value the cloud reports differently.
fn changed_properties(record: &ResourceRecord, observed: &Observed) -> Vec<PropertyDrift> {
    let recorded = record.inputs.as_object().cloned().unwrap_or_default();
    recorded
        .iter()
        .filter_map(|(property, recorded)| {
            let seen = observed.inputs.get(property)?;
            (reveal(recorded) != *seen).then(|| PropertyDrift {
                property: property.clone(),
                recorded: recorded.clone(),
                observed: as_sensitive_as(Some(recorded), seen.clone()),
            })
        })
        .collect()
}

/// `record` as the cloud has it: each recorded input the cloud reports replaced by what it
/// reports (a secret staying a secret), and the outputs it reports merged in.
pub(crate) fn as_observed(record: &ResourceRecord, observed: Observed) -> ResourceRecord {
    let mut inputs = record.inputs.as_object().cloned().unwrap_or_default();
    for change in changed_properties(record, &observed) {
        inputs.insert(change.property, change.observed);
    }
    let mut outputs = record.outputs.as_object().cloned().unwrap_or_else(Map::new);
    for (name, seen) in observed.outputs {
        let seen = as_sensitive_as(outputs.get(&name), seen);
        outputs.insert(name, seen);
    }
    ResourceRecord {
        inputs: Value::Object(inputs),
        outputs: Value::Object(outputs),
        ..record.clone()
    }
}

/// `seen` wrapped as a secret when the value it replaces is one, so that it is redacted in
/// output and encrypted in the state as the recorded value was.
fn as_sensitive_as(recorded: Option<&Value>, seen: Value) -> Value {
    if recorded.is_some_and(is_secret) { secret(seen) } else { seen }
}
