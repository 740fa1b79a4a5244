//! An in-memory cloud for engine tests and benchmarks (feature `testing`).
//!
//! It keeps resources in a map, assigns ids, sleeps a configurable latency per type, fails
//! on request, and records every call with the number of calls in flight, so tests can
//! assert on order and concurrency instead of wall-clock time.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::model::ProviderBinding;
use crate::provider::{
    Observed, Outputs, Provider, ProviderError, RecordedResource, ResourceRequest,
};

/// Which provider call a record or an injected failure is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    /// `create`
    Create,
    /// `read_data_source`
    ReadDataSource,
    /// `update`
    Update,
    /// `delete`
    Delete,
    /// `read`
    Read,
    /// `find_owned`
    FindOwned,
}

/// One provider call as the in-memory cloud saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRecord {
    /// The resource's logical name.
    pub name: String,
    /// The call.
    pub call: Call,
    /// Position of the call's start among all starts and ends.
    pub started: u64,
    /// Position of the call's end among all starts and ends.
    pub finished: u64,
    /// Calls in flight when this one started (itself included).
    pub concurrent: usize,
}

/// A resource the in-memory cloud holds.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredResource {
    /// The URN it was created for (its ownership tag).
    pub urn: String,
    /// The type token.
    pub type_token: String,
    /// The logical name.
    pub name: String,
    /// Where it lives (`account/region`).
    pub location: String,
    /// The inputs it was last given.
    pub inputs: Value,
    /// The outputs it returned.
    pub outputs: Outputs,
}

/// How an injected failure behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The call fails and changes nothing.
    Fail,
    /// The call takes effect, then reports failure: a create interrupted between the cloud
    /// call and the state write.
    FailAfterEffect,
}

#[derive(Default)]
struct Cloud {
    next_id: u64,
    resources: BTreeMap<String, StoredResource>,
    calls: Vec<CallRecord>,
    clock: u64,
    in_flight: usize,
    max_in_flight: usize,
    faults: HashMap<(String, Call), (Fault, usize)>,
    latency: HashMap<String, Duration>,
}

/// The in-memory cloud. Cheap to share behind an `Arc`.
#[derive(Default)]
pub struct MemoryCloud {
    cloud: Mutex<Cloud>,
}

impl MemoryCloud {
    /// An empty cloud with no latency and no faults.
    pub fn new() -> Self {
        MemoryCloud::default()
    }

    /// Every call on resources of `type_token` takes `latency`.
    pub fn set_latency(&self, type_token: &str, latency: Duration) {
        self.lock().latency.insert(type_token.to_owned(), latency);
    }

    /// The next `times` calls of kind `call` on the resource called `name` fail as `fault` says.
    pub fn inject(&self, name: &str, call: Call, fault: Fault, times: usize) {
        self.lock().faults.insert((name.to_owned(), call), (fault, times));
    }

    /// The resources that exist, by id.
    pub fn resources(&self) -> BTreeMap<String, StoredResource> {
        self.lock().resources.clone()
    }

    /// Every call so far, in order of completion.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.lock().calls.clone()
    }

    /// The most calls that were ever in flight at once.
    pub fn max_concurrency(&self) -> usize {
        self.lock().max_in_flight
    }

    /// Creates a resource outside any stack (something a data source can read).
    pub fn seed(&self, type_token: &str, name: &str, location: &str, outputs: Outputs) {
        let stored = StoredResource {
            urn: String::new(),
            type_token: type_token.to_owned(),
            name: name.to_owned(),
            location: location.to_owned(),
            inputs: Value::Null,
            outputs,
        };
        self.lock().resources.insert(format!("seed-{name}"), stored);
    }

    /// Sets input `property` of the resource with id `id` behind cairn's back (drift).
    pub fn change_outside(&self, id: &str, property: &str, value: Value) {
        if let Some(Value::Object(inputs)) =
            self.lock().resources.get_mut(id).map(|found| &mut found.inputs)
        {
            inputs.insert(property.to_owned(), value);
        }
    }

    /// Deletes the resource with id `id` behind cairn's back.
    pub fn delete_outside(&self, id: &str) {
        self.lock().resources.remove(id);
    }

    fn lock(&self) -> MutexGuard<'_, Cloud> {
        // A test that panicked while holding the lock has already failed; keep going.
        self.cloud.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs one call: counts it in flight, sleeps the type's latency, applies `effect` unless
    /// a fault says otherwise, and records it.
    async fn call<T>(
        &self,
        request: &ResourceRequest,
        call: Call,
        effect: impl FnOnce(&mut Cloud) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        let (started, concurrent, latency) = {
            let mut cloud = self.lock();
            cloud.clock += 1;
            cloud.in_flight += 1;
            cloud.max_in_flight = cloud.max_in_flight.max(cloud.in_flight);
            let latency = cloud.latency.get(&request.type_token).copied().unwrap_or_default();
            (cloud.clock, cloud.in_flight, latency)
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let mut cloud = self.lock();
        let fault = take_fault(&mut cloud, &request.name, call);
        let result = match fault {
            Some(Fault::Fail) => Err(injected(request, call)),
            Some(Fault::FailAfterEffect) => effect(&mut cloud).and(Err(injected(request, call))),
            None => effect(&mut cloud),
        };
        cloud.clock += 1;
        cloud.in_flight -= 1;
        let finished = cloud.clock;
        cloud.calls.push(CallRecord {
            name: request.name.clone(),
            call,
            started,
            finished,
            concurrent,
        });
        result
    }
}

fn take_fault(cloud: &mut Cloud, name: &str, call: Call) -> Option<Fault> {
    let key = (name.to_owned(), call);
    let (fault, remaining) = cloud.faults.get_mut(&key)?;
    let fault = *fault;
    *remaining -= 1;
    if *remaining == 0 {
        cloud.faults.remove(&key);
    }
    Some(fault)
}

fn injected(request: &ResourceRequest, call: Call) -> ProviderError {
    ProviderError::new(format!("injected failure: {call:?} of `{}`", request.name))
}

fn recorded_id(prior: &RecordedResource) -> Result<String, ProviderError> {
    prior
        .outputs
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ProviderError::new("recorded outputs have no `id`"))
}

fn outputs_for(id: &str, request: &ResourceRequest) -> Outputs {
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(id));
    outputs.insert("arn".into(), json!(format!("arn:memory:{}:{id}", request.type_token)));
    outputs
}

#[async_trait]
impl Provider for MemoryCloud {
    async fn check_bindings(&self, _bindings: &[ProviderBinding]) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn create(&self, request: &ResourceRequest) -> Result<Outputs, ProviderError> {
        self.call(request, Call::Create, |cloud| {
            cloud.next_id += 1;
            let id = format!("mem-{:08}", cloud.next_id);
            let outputs = outputs_for(&id, request);
            cloud.resources.insert(id, stored(request, outputs.clone()));
            Ok(outputs)
        })
        .await
    }

    async fn read_data_source(&self, request: &ResourceRequest) -> Result<Outputs, ProviderError> {
        self.call(request, Call::ReadDataSource, |cloud| {
            let key = format!("seed-{}", request.name);
            cloud.resources.get(&key).map(|found| found.outputs.clone()).ok_or_else(|| {
                ProviderError::not_found(format!("data source `{}` does not exist", request.name))
            })
        })
        .await
    }

    async fn update(
        &self,
        request: &ResourceRequest,
        prior: &RecordedResource,
    ) -> Result<Outputs, ProviderError> {
        let id = recorded_id(prior)?;
        self.call(request, Call::Update, |cloud| {
            let existing = cloud.resources.get_mut(&id).ok_or_else(|| gone(&id))?;
            existing.inputs = request.inputs.clone();
            Ok(existing.outputs.clone())
        })
        .await
    }

    async fn delete(
        &self,
        request: &ResourceRequest,
        prior: &RecordedResource,
    ) -> Result<(), ProviderError> {
        let id = recorded_id(prior)?;
        self.call(request, Call::Delete, |cloud| {
            cloud.resources.remove(&id);
            Ok(())
        })
        .await
    }

    async fn read(
        &self,
        request: &ResourceRequest,
        prior: &RecordedResource,
    ) -> Result<Option<Observed>, ProviderError> {
        let id = recorded_id(prior)?;
        self.call(request, Call::Read, |cloud| {
            Ok(cloud.resources.get(&id).map(|found| Observed {
                inputs: found.inputs.as_object().cloned().unwrap_or_default(),
                outputs: found.outputs.clone(),
            }))
        })
        .await
    }

    async fn find_owned(
        &self,
        request: &ResourceRequest,
        excluding: Option<&str>,
    ) -> Result<Option<Outputs>, ProviderError> {
        self.call(request, Call::FindOwned, |cloud| {
            Ok(cloud
                .resources
                .iter()
                .find(|(id, found)| {
                    found.urn == request.urn.as_str() && excluding != Some(id.as_str())
                })
                .map(|(_, found)| found)
                .map(|found| found.outputs.clone()))
        })
        .await
    }
}

fn stored(request: &ResourceRequest, outputs: Outputs) -> StoredResource {
    StoredResource {
        urn: request.urn.as_str().to_owned(),
        type_token: request.type_token.clone(),
        name: request.name.clone(),
        location: request.binding.location(),
        inputs: request.inputs.clone(),
        outputs,
    }
}

fn gone(id: &str) -> ProviderError {
    ProviderError::not_found(format!("resource {id} does not exist"))
}
