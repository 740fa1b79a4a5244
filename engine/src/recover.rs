//! Recovery of operations an earlier run started but never recorded the end of.
//!
//! Before every provider call the engine journals what it is about to do. A journal entry
//! still present at the next run means the process stopped mid-call: the cloud may or may
//! not have done it. Recovery asks the cloud and settles the state, so that a resource whose
//! create was interrupted is adopted instead of being created twice, and a resource replaced
//! create-first is deleted even if the run stopped (or its delete failed) after the
//! replacement was recorded.

use std::collections::BTreeMap;

use cairn_state::{
    ApplyId, Finished, OperationKind as RunKind, PendingKind, PendingOperation, ResourceRecord,
    StateError, Store,
};
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use crate::model::{ProviderBinding, Urn};
use crate::provider::{Outputs, Provider, ProviderError, RecordedResource, ResourceRequest};
use crate::refresh::as_observed;
use crate::value::reveal;

/// What recovery did with each interrupted operation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RecoveryReport {
    /// Interrupted creates found in the cloud by ownership and recorded in the state.
    pub adopted: Vec<String>,
    /// Interrupted deletes that had happened: the records were removed.
    pub removed: Vec<String>,
    /// Operations that had not taken effect (or are re-planned): journal entries cleared.
    pub cleared: Vec<String>,
    /// Resources replaced (create first) whose delete had not happened or not been recorded:
    /// deleted now, or found gone; their journal entries cleared. Named by the replacement.
    pub replaced_deleted: Vec<String>,
    /// Replaced resources that could not be deleted now, with the provider's error: their
    /// journal entries stay, and the next apply tries again.
    pub replaced_kept: Vec<(String, String)>,
}

/// Why recovery could not finish.
#[derive(Debug, Error)]
pub enum RecoveryError {
    /// The state store failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The journal names a binding nobody knows.
    #[error(
        "the interrupted operation on `{name}` used provider binding `{binding}`, which neither \
         the program nor the state defines: add the binding back to the stack config"
    )]
    UnknownBinding {
        /// The resource.
        name: String,
        /// The binding.
        binding: String,
    },
    /// The cloud could not be asked.
    #[error("could not check the interrupted operation on `{name}`: {error}")]
    Provider {
        /// The resource.
        name: String,
        /// The provider's error.
        error: ProviderError,
    },
}

/// Settles every interrupted operation in `store` by asking `provider`.
pub async fn recover_interrupted(
    store: &Store,
    provider: &dyn Provider,
    bindings: &BTreeMap<String, ProviderBinding>,
    started_at_unix: u64,
) -> Result<RecoveryReport, RecoveryError> {
    let pending = store.pending_operations()?;
    let mut report = RecoveryReport::default();
    if pending.is_empty() {
        return Ok(report);
    }
    let apply_id = store.begin_apply(RunKind::Apply, started_at_unix)?;
    for operation in &pending {
        let binding = bindings.get(&operation.binding).cloned().ok_or_else(|| {
            RecoveryError::UnknownBinding {
                name: operation.name.clone(),
                binding: operation.binding.clone(),
            }
        })?;
        settle(store, provider, apply_id, operation, binding, &mut report).await?;
    }
    Ok(report)
}

async fn settle(
    store: &Store,
    provider: &dyn Provider,
    apply_id: ApplyId,
    operation: &PendingOperation,
    binding: ProviderBinding,
    report: &mut RecoveryReport,
) -> Result<(), RecoveryError> {
    let request = ResourceRequest {
        urn: Urn::from(operation.urn.clone()),
        name: operation.name.clone(),
        type_token: operation.type_token.clone(),
        binding,
        inputs: reveal(&operation.inputs),
        replacing: None,
    };
    let asked = |error| RecoveryError::Provider { name: operation.name.clone(), error };
    match operation.kind {
        PendingKind::Create => {
            let replaced_id = operation.prior_outputs.get("id").and_then(Value::as_str);
            match provider.find_owned(&request, replaced_id).await.map_err(asked)? {
                Some(found) => match read_adopted(provider, &request, operation, found).await {
                    Ok(Some(record)) => adopt(store, apply_id, operation, &record, report)?,
                    Ok(None) => clear(store, operation, report)?,
                    Err(error) => return Err(asked(error)),
                },
                None => clear(store, operation, report)?,
            }
        }
        PendingKind::Delete => {
            let prior = RecordedResource {
                inputs: request.inputs.clone(),
                outputs: reveal(&operation.prior_outputs),
            };
            match provider.read(&request, &prior).await {
                Ok(None) => {
                    store.finish_remove(apply_id, &operation.urn)?;
                    report.removed.push(operation.name.clone());
                }
                Err(error) if error.not_found => {
                    store.finish_remove(apply_id, &operation.urn)?;
                    report.removed.push(operation.name.clone());
                }
                Ok(Some(_)) => clear(store, operation, report)?,
                Err(error) => return Err(asked(error)),
            }
        }
        // The record still holds the inputs before the update; the next plan compares
        // against them and applies the update again, which is idempotent.
        PendingKind::Update => clear(store, operation, report)?,
        // The record holds the replacement: finish what the approved replacement started.
        PendingKind::DeleteReplaced => {
            let prior = RecordedResource {
                inputs: request.inputs.clone(),
                outputs: reveal(&operation.prior_outputs),
            };
            match provider.delete(&request, &prior).await {
                Ok(()) => {}
                Err(error) if error.not_found => {}
                Err(error) => {
                    report.replaced_kept.push((operation.name.clone(), error.to_string()));
                    return Ok(());
                }
            }
            store.journal_clear(&operation.urn, operation.kind)?;
            report.replaced_deleted.push(operation.name.clone());
        }
    }
    Ok(())
}

fn clear(
    store: &Store,
    operation: &PendingOperation,
    report: &mut RecoveryReport,
) -> Result<(), RecoveryError> {
    store.journal_clear(&operation.urn, operation.kind)?;
    report.cleared.push(operation.name.clone());
    Ok(())
}

/// The record of the resource an interrupted (or failed) create left behind, `found` by its
/// ownership tag: the inputs the create sent, overlaid with what the cloud reports of them, so
/// that a resource whose later create steps never ran (a default rule not yet revoked, an
/// attribute not yet set) plans as an update that finishes it. `None` when it is gone again.
async fn read_adopted(
    provider: &dyn Provider,
    request: &ResourceRequest,
    operation: &PendingOperation,
    found: Outputs,
) -> Result<Option<ResourceRecord>, ProviderError> {
    let record = ResourceRecord {
        urn: operation.urn.clone(),
        type_token: operation.type_token.clone(),
        name: operation.name.clone(),
        binding: operation.binding.clone(),
        inputs: operation.inputs.clone(),
        outputs: Value::Object(found),
        dependencies: operation.dependencies.clone(),
    };
    let prior =
        RecordedResource { inputs: request.inputs.clone(), outputs: reveal(&record.outputs) };
    let observed = match provider.read(request, &prior).await {
        Err(error) if error.not_found => return Ok(None),
        observed => observed?,
    };
    Ok(observed.map(|observed| as_observed(&record, observed)))
}

/// Records `record` as the resource `operation` created. When the state still records the
/// resource a create-first replacement replaces, the replacement's record and the journaled
/// delete of the old resource are written together, so the old one is deleted by the next
/// apply and never forgotten.
fn adopt(
    store: &Store,
    apply_id: ApplyId,
    operation: &PendingOperation,
    record: &ResourceRecord,
    report: &mut RecoveryReport,
) -> Result<(), RecoveryError> {
    let replaced_id = operation.prior_outputs.get("id");
    let snapshot = store.snapshot()?;
    let old = snapshot
        .resources
        .get(&operation.urn)
        .filter(|old| replaced_id.is_some() && old.outputs.get("id") == replaced_id);
    match old {
        Some(old) => {
            let replaced = PendingOperation {
                kind: PendingKind::DeleteReplaced,
                inputs: old.inputs.clone(),
                prior_outputs: old.outputs.clone(),
                ..operation.clone()
            };
            store.finish_all(apply_id, &[Finished::Replaced { record, replaced: &replaced }])?;
        }
        None => drop(store.finish_put(apply_id, record)?),
    }
    report.adopted.push(operation.name.clone());
    Ok(())
}
