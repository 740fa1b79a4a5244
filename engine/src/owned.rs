//! Before anything is created: is it there already? A create in the plan means the state
//! records nothing at that address; if the cloud holds a resource carrying this stack's
//! ownership tag for it all the same, the state was lost, damaged or rolled back, and creating
//! would build a second copy beside the first. Apply looks first and stops, or, when told to,
//! adopts what it found through the journal, as recovery adopts an interrupted create.

use std::collections::BTreeMap;
use std::sync::Arc;

use cairn_state::{StateError, Store};
use serde_json::{Map, Value};
use thiserror::Error;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::apply::{OperationKind, pending};
use crate::model::ProviderBinding;
use crate::plan::{Action, Plan, Step};
use crate::provider::{Provider, ProviderError, ResourceRequest};
use crate::value::{contains_unknown, reveal};

/// A resource the plan would create that the cloud already holds under this stack's
/// ownership tag for the same address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlreadyOwned {
    /// The resource's logical name.
    pub name: String,
    /// Its type.
    pub type_token: String,
    /// The binding it lives in.
    pub binding: String,
    /// The id of what the cloud holds.
    pub id: String,
}

/// Why the check could not be made.
#[derive(Debug, Error)]
pub enum OwnedCheckError {
    /// The credentials do not reach the accounts of the bindings.
    #[error("{0}")]
    Bindings(ProviderError),
    /// The cloud could not be asked.
    #[error(
        "could not check whether `{name}` already exists before creating it: {error}; nothing \
         was changed"
    )]
    Provider {
        /// The resource.
        name: String,
        /// The provider's error.
        error: ProviderError,
    },
    /// The plan names a binding it does not define.
    #[error("`{name}` uses provider binding `{binding}`, which the plan does not define")]
    UnknownBinding {
        /// The resource.
        name: String,
        /// The binding.
        binding: String,
    },
}

/// The creates of `plan` whose resource the cloud already holds under this stack's ownership
/// tag, asking `provider` at most `parallelism` at a time. A create whose inputs are not all
/// known yet is asked about with the known ones (a lookup by ownership tag or by a literal
/// name needs no more); when its type needs one of the unknown ones to look, it is passed
/// over, and what it refers to is asked about itself.
///
/// # Errors
///
/// A lookup of a fully known create that failed: then it is unknown whether creating would
/// make a second copy.
pub async fn find_already_owned(
    plan: &Plan,
    provider: Arc<dyn Provider>,
    parallelism: usize,
) -> Result<Vec<AlreadyOwned>, OwnedCheckError> {
    let creates: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|step| step.action == Action::Create && !step.data_source)
        .collect();
    // Lookups in the wrong account would find nothing: the accounts are checked first.
    let used: Vec<ProviderBinding> = plan
        .bindings
        .values()
        .filter(|binding| creates.iter().any(|step| step.binding == binding.name))
        .cloned()
        .collect();
    provider.check_bindings(&used).await.map_err(OwnedCheckError::Bindings)?;
    let permits = Arc::new(Semaphore::new(parallelism.max(1)));
    let mut lookups = JoinSet::new();
    for step in creates {
        let request = lookup_request(step, &plan.bindings)?;
        let partial = step.planned.values().any(contains_unknown);
        let (provider, permits) = (Arc::clone(&provider), Arc::clone(&permits));
        lookups.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let found = provider.find_owned(&request, None).await;
            (request, partial, found)
        });
    }
    let mut owned = Vec::new();
    while let Some(joined) = lookups.join_next().await {
        let (request, partial, found) =
            joined.unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
        let found = match found {
            Err(error) if partial => {
                tracing::debug!(name = %request.name, %error, "not looked up before the create: an input it needs is not known yet");
                continue;
            }
            found => found
                .map_err(|error| OwnedCheckError::Provider { name: request.name.clone(), error })?,
        };
        if let Some(outputs) = found {
            owned.push(AlreadyOwned {
                id: outputs.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
                name: request.name,
                type_token: request.type_token,
                binding: request.binding.name,
            });
        }
    }
    owned.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(owned)
}

/// Journals the create of each of `owned` as if a run had been interrupted after making it,
/// so that [`recover_interrupted`](crate::recover_interrupted) finds, reads and records it.
/// The inputs not known yet are journaled as null: recovery records what the cloud reports
/// of them, and the next plan sets any it cannot read.
///
/// # Errors
///
/// A state store failure; then nothing was journaled.
pub fn journal_for_adoption(
    store: &Store,
    plan: &Plan,
    owned: &[AlreadyOwned],
    started_at_unix: u64,
) -> Result<(), StateError> {
    let entries: Vec<_> = plan
        .steps
        .iter()
        .filter(|step| owned.iter().any(|found| found.name == step.name))
        .map(|step| {
            let inputs = step.planned.iter().map(|(name, value)| {
                let known = if contains_unknown(value) { Value::Null } else { value.clone() };
                (name.clone(), known)
            });
            pending(step, OperationKind::Create, Value::Object(inputs.collect()), started_at_unix)
        })
        .collect();
    store.journal_begin_all(&entries)
}

/// The inputs of `step` known before the apply (secrets still wrapped).
fn known_inputs(step: &Step) -> Map<String, Value> {
    let known = step.planned.iter().filter(|(_, value)| !contains_unknown(value));
    known.map(|(name, value)| (name.clone(), value.clone())).collect()
}

fn lookup_request(
    step: &Step,
    bindings: &BTreeMap<String, ProviderBinding>,
) -> Result<ResourceRequest, OwnedCheckError> {
    let binding = bindings.get(&step.binding).cloned().ok_or_else(|| {
        OwnedCheckError::UnknownBinding { name: step.name.clone(), binding: step.binding.clone() }
    })?;
    Ok(step.request(binding, reveal(&Value::Object(known_inputs(step)))))
}
