//! Apply: executes a [`Plan`] through a [`Provider`] with a ready-queue scheduler.
//!
//! Each step becomes one or two operations (a replacement is a create and a delete). An
//! operation starts as soon as every operation it waits for has finished, at most
//! `parallelism` at a time, the one with the longest remaining path first. A failure skips
//! only what waits on it; everything else finishes, and every success is recorded in the state
//! the moment it happens, behind a journal entry written before the provider call.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;

use cairn_state::{
    ApplyId, Finished, OperationKind as RunKind, PendingKind, PendingOperation, ResourceRecord,
    StateError, Store,
};
use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;
use serde_json::{Map, Value};
use thiserror::Error;
use tokio::task::JoinSet;

use crate::model::ProviderBinding;
use crate::plan::{Action, Plan, Step};
use crate::provider::{Outputs, Provider, ProviderError, RecordedResource, ResourceRequest};
use crate::value::{OutputRef, contains_unknown, reveal};

/// How to run an apply.
#[derive(Clone, Copy, Debug)]
pub struct ApplyOptions {
    /// The most provider calls in flight at once (at least 1).
    pub parallelism: usize,
    /// What kind of run this is, for the state's history.
    pub kind: RunKind,
    /// When the run started, in seconds since the Unix epoch (the caller owns the clock).
    pub started_at_unix: u64,
}

/// What an operation does to its resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    /// Create a new resource.
    Create,
    /// Read a data source.
    Read,
    /// Update in place.
    Update,
    /// Delete a resource the program no longer declares.
    Delete,
    /// Create the new half of a replacement.
    CreateReplacement,
    /// Delete the old half of a replacement.
    DeleteReplaced,
}

/// One operation as progress reporting and the report see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Operation {
    /// The resource's logical name.
    pub name: String,
    /// Its type.
    pub type_token: String,
    /// Its binding.
    pub binding: String,
    /// What is done.
    pub kind: OperationKind,
}

/// A failed operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// What failed.
    pub operation: Operation,
    /// The provider's message.
    pub message: String,
}

/// An operation that did not run because something it waits for failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// What did not run.
    pub operation: Operation,
    /// The name of the failed resource it waited for.
    pub because_of: String,
}

/// The outcome of an apply.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ApplyReport {
    /// Operations that succeeded, in completion order.
    pub completed: Vec<Operation>,
    /// Operations that failed.
    pub failed: Vec<Failure>,
    /// Operations skipped because of a failure.
    pub skipped: Vec<Skipped>,
    /// The stack outputs after the run (those that could be resolved).
    pub outputs: BTreeMap<String, Value>,
    /// Resources whose record was renamed (a `moved` mapping), by their new name.
    pub renamed: Vec<String>,
}

impl ApplyReport {
    /// Whether every operation succeeded.
    pub fn succeeded(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty()
    }
}

/// Told about operations as they start and finish; the CLI shows progress with it.
pub trait Progress: Send + Sync {
    /// `operation` is about to call the provider.
    fn started(&self, operation: &Operation);
    /// `operation` finished; `error` is set when it failed.
    fn finished(&self, operation: &Operation, error: Option<&str>);
}

/// Progress that reports nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn started(&self, _: &Operation) {}
    fn finished(&self, _: &Operation, _: Option<&str>) {}
}

/// Why an apply could not run at all (per-resource failures are in the [`ApplyReport`]).
#[derive(Debug, Error)]
pub enum ApplyError {
    /// The state changed since the plan was made.
    #[error(
        "the plan is stale: it was made against state {planned_lineage} serial {planned_serial}, \
         but the state is now {lineage} serial {serial}; run `plan` again"
    )]
    StalePlan {
        /// Lineage the plan expects.
        planned_lineage: String,
        /// Serial the plan expects.
        planned_serial: u64,
        /// Lineage found.
        lineage: String,
        /// Serial found.
        serial: u64,
    },
    /// A binding does not reach the account it names, or credentials failed.
    #[error("provider bindings failed their check, nothing was changed: {0}")]
    Bindings(ProviderError),
    /// The state store failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The operations form a cycle (a bug: plans come from validated programs).
    #[error("the plan's operations form a cycle around `{0}`: report this as a bug")]
    OperationCycle(String),
}

/// Applies `plan` through `provider`, recording every change in `store`.
pub async fn apply(
    plan: &Plan,
    store: &Store,
    provider: Arc<dyn Provider>,
    options: ApplyOptions,
    progress: &dyn Progress,
) -> Result<ApplyReport, ApplyError> {
    check_fresh(plan, store)?;
    let operations = Operations::build(plan)?;
    let reaches_cloud = !operations.items.is_empty() || !plan.output_changes.is_empty();
    if !reaches_cloud && plan.renames().next().is_none() {
        return Ok(ApplyReport::default());
    }
    if reaches_cloud {
        provider.check_bindings(&used_bindings(plan)).await.map_err(ApplyError::Bindings)?;
    }
    let apply_id = store.begin_apply(options.kind, options.started_at_unix)?;
    store.put_bindings(&binding_records(plan))?;
    let renamed = rename_records(plan, store, apply_id)?;
    let snapshot = store.snapshot()?;
    let live = snapshot
        .resources
        .values()
        .map(|record| (record.name.clone(), Live::from_record(record)))
        .collect();
    let mut run = Run {
        plan,
        store,
        provider,
        apply_id,
        operations,
        live,
        planned: HashMap::new(),
        started_at_unix: options.started_at_unix,
        report: ApplyReport::default(),
    };
    run.report.renamed = renamed;
    run.execute(options.parallelism.max(1), progress).await?;
    run.finish_outputs()?;
    Ok(run.report)
}

/// Renames, in one state transaction before anything else, the record of every resource the
/// program moved to a new name; returns their new names. The cloud is not called: the
/// resource is the same one.
fn rename_records(plan: &Plan, store: &Store, apply: ApplyId) -> Result<Vec<String>, ApplyError> {
    let snapshot = store.snapshot()?;
    let mut records = Vec::new();
    for (old, step) in plan.renames() {
        if let Some(record) = snapshot.resources.get(old.as_str()) {
            let renamed = ResourceRecord {
                urn: step.urn.as_str().to_owned(),
                name: step.name.clone(),
                ..record.clone()
            };
            records.push((old.as_str(), renamed));
        }
    }
    let mut changes = Vec::with_capacity(records.len() * 2);
    for (old, record) in &records {
        changes.push(Finished::Put(record));
        changes.push(Finished::Remove(old));
    }
    if !changes.is_empty() {
        store.record_all(apply, &changes)?;
    }
    Ok(records.into_iter().map(|(_, record)| record.name).collect())
}

/// Refuses `plan` when the state in `store` has moved since it was made (another serial or
/// lineage): apply runs this first, and a command can run it before it reaches a cloud.
pub fn check_fresh(plan: &Plan, store: &Store) -> Result<(), ApplyError> {
    let metadata = store.metadata()?;
    // A plan made before the state existed has no lineage; it fits the new, empty state.
    let planned_on_nothing = plan.lineage.is_empty() && plan.serial == 0 && metadata.serial == 0;
    if !planned_on_nothing && (metadata.lineage != plan.lineage || metadata.serial != plan.serial) {
        return Err(ApplyError::StalePlan {
            planned_lineage: plan.lineage.clone(),
            planned_serial: plan.serial,
            lineage: metadata.lineage,
            serial: metadata.serial,
        });
    }
    Ok(())
}

fn used_bindings(plan: &Plan) -> Vec<ProviderBinding> {
    let mut names: Vec<&str> = plan
        .steps
        .iter()
        .filter(|step| step.action != Action::NoOp)
        .map(|step| step.binding.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names.into_iter().filter_map(|name| plan.bindings.get(name)).cloned().collect()
}

fn binding_records(plan: &Plan) -> BTreeMap<String, Value> {
    plan.bindings
        .iter()
        .map(|(name, binding)| (name.clone(), serde_json::to_value(binding).unwrap_or(Value::Null)))
        .collect()
}

/// A resource's current inputs and outputs during a run.
#[derive(Clone, Debug)]
struct Live {
    inputs: Value,
    outputs: Value,
}

impl Live {
    fn from_record(record: &ResourceRecord) -> Self {
        Live { inputs: record.inputs.clone(), outputs: record.outputs.clone() }
    }

    /// An output, or else an input of the same name.
    fn get(&self, name: &str) -> Option<Value> {
        self.outputs.get(name).or_else(|| self.inputs.get(name)).cloned()
    }
}

/// The operation graph of a plan.
struct Operations {
    items: Vec<(usize, OperationKind)>,
    graph: DiGraph<usize, ()>,
    /// Longest path (in operations) from each operation to the end of the graph.
    priority: Vec<usize>,
}

impl Operations {
    fn build(plan: &Plan) -> Result<Self, ApplyError> {
        let mut items = Vec::new();
        let mut producer: HashMap<&str, usize> = HashMap::new();
        let mut retirer: HashMap<&str, usize> = HashMap::new();
        for (position, step) in plan.steps.iter().enumerate() {
            let (produces, retires) = operation_kinds(step);
            if let Some(kind) = produces {
                items.push((position, kind));
                producer.insert(step.urn.as_str(), items.len() - 1);
            }
            if let Some(kind) = retires {
                items.push((position, kind));
                retirer.insert(step.urn.as_str(), items.len() - 1);
            }
        }
        let mut graph = DiGraph::with_capacity(items.len(), items.len() * 2);
        for position in 0..items.len() {
            graph.add_node(position);
        }
        let mut edge = |from: usize, to: usize| {
            graph.update_edge(NodeIndex::new(from), NodeIndex::new(to), ());
        };
        for step in &plan.steps {
            let urn = step.urn.as_str();
            for dependency in &step.dependencies {
                let dependency = dependency.as_str();
                if let (Some(&before), Some(&after)) = (producer.get(dependency), producer.get(urn))
                {
                    edge(before, after);
                    // Dependents move to the new resource before the old one goes.
                    if let Some(&old) = retirer.get(dependency)
                        && plan_step(plan, &items, old).create_before_delete
                    {
                        edge(after, old);
                    }
                }
                if let (Some(&first), Some(&then)) = (retirer.get(urn), retirer.get(dependency)) {
                    edge(first, then);
                }
            }
            if let (Some(&new), Some(&old)) = (producer.get(urn), retirer.get(urn)) {
                if step.create_before_delete { edge(new, old) } else { edge(old, new) }
            }
        }
        let priority = longest_remaining_paths(&graph, plan, &items)?;
        Ok(Operations { items, graph, priority })
    }
}

/// The operation that makes a step's new resource, and the one that deletes its old one.
fn operation_kinds(step: &Step) -> (Option<OperationKind>, Option<OperationKind>) {
    match step.action {
        Action::NoOp => (None, None),
        Action::Create => (Some(OperationKind::Create), None),
        Action::Read => (Some(OperationKind::Read), None),
        Action::Update => (Some(OperationKind::Update), None),
        Action::Delete => (None, Some(OperationKind::Delete)),
        Action::Replace if step.data_source => (Some(OperationKind::Read), None),
        Action::Replace => {
            (Some(OperationKind::CreateReplacement), Some(OperationKind::DeleteReplaced))
        }
    }
}

fn plan_step<'p>(plan: &'p Plan, items: &[(usize, OperationKind)], operation: usize) -> &'p Step {
    &plan.steps[items[operation].0]
}

fn longest_remaining_paths(
    graph: &DiGraph<usize, ()>,
    plan: &Plan,
    items: &[(usize, OperationKind)],
) -> Result<Vec<usize>, ApplyError> {
    let order = toposort(graph, None).map_err(|cycle| {
        ApplyError::OperationCycle(plan_step(plan, items, cycle.node_id().index()).name.clone())
    })?;
    let mut longest = vec![1usize; graph.node_count()];
    for node in order.into_iter().rev() {
        let tail = graph.neighbors(node).map(|next| longest[next.index()]).max().unwrap_or(0);
        longest[node.index()] = 1 + tail;
    }
    Ok(longest)
}

/// The state of one apply run.
struct Run<'a> {
    plan: &'a Plan,
    store: &'a Store,
    provider: Arc<dyn Provider>,
    apply_id: ApplyId,
    operations: Operations,
    live: HashMap<String, Live>,
    /// The inputs each running operation was prepared with (secrets still wrapped): what the
    /// state records when it succeeds.
    planned: HashMap<usize, Value>,
    started_at_unix: u64,
    report: ApplyReport,
}

/// What a finished provider call produced.
type CallResult = Result<Option<Outputs>, ProviderError>;

/// What a successful operation changes in the state.
enum Settled {
    /// The resource's record is written (a create, update or read).
    Written(ResourceRecord),
    /// The create of a create-first replacement: its record is written and, in the same
    /// transaction, the delete of the resource it replaced is journaled.
    Replacing(ResourceRecord, PendingOperation),
    /// The resource's record is removed (a delete).
    Removed,
    /// Only the journal entry is cleared: the old half of a create-first replacement, whose
    /// URN already records the new resource.
    JournalOnly,
}

/// An operation ready to call its provider.
struct Prepared {
    index: usize,
    kind: OperationKind,
    request: ResourceRequest,
    prior: Option<RecordedResource>,
    /// The journal entry to write first (reads of data sources change nothing).
    journal: Option<PendingOperation>,
    /// The inputs resolved for it, secrets still wrapped.
    planned: Value,
}

/// The scheduler's bookkeeping: what waits on how many, what is ready (longest remaining
/// path first), what runs, and what was skipped.
struct Queue {
    waiting: Vec<usize>,
    skipped: Vec<bool>,
    ready: BinaryHeap<(usize, Reverse<usize>)>,
    running: JoinSet<CallResult>,
    tasks: HashMap<tokio::task::Id, usize>,
}

impl Queue {
    fn new(operations: &Operations) -> Self {
        let count = operations.items.len();
        let waiting: Vec<usize> = (0..count)
            .map(|i| {
                operations.graph.neighbors_directed(NodeIndex::new(i), petgraph::Incoming).count()
            })
            .collect();
        let ready = (0..count)
            .filter(|&i| waiting[i] == 0)
            .map(|i| (operations.priority[i], Reverse(i)))
            .collect();
        Queue {
            waiting,
            skipped: vec![false; count],
            ready,
            running: JoinSet::new(),
            tasks: HashMap::new(),
        }
    }

    /// Marks `finished` done: what waited only on it becomes ready.
    fn release(&mut self, operations: &Operations, finished: usize) {
        for next in operations.graph.neighbors(NodeIndex::new(finished)) {
            let next = next.index();
            self.waiting[next] -= 1;
            if self.waiting[next] == 0 && !self.skipped[next] {
                self.ready.push((operations.priority[next], Reverse(next)));
            }
        }
    }
}

impl Run<'_> {
    async fn execute(
        &mut self,
        parallelism: usize,
        progress: &dyn Progress,
    ) -> Result<(), ApplyError> {
        let mut queue = Queue::new(&self.operations);
        loop {
            self.start_ready(&mut queue, parallelism, progress)?;
            let Some(first) = queue.running.join_next_with_id().await else { break };
            // Group commit: every call that has finished by now is recorded in one transaction,
            // made durable by the flush of the next journal entries (or the last flush below):
            // until then their journal entries are durable, which recovery settles.
            let mut finished = vec![first];
            while let Some(more) = queue.running.try_join_next_with_id() {
                finished.push(more);
            }
            let mut settled = Vec::with_capacity(finished.len());
            for joined in finished {
                let (task, result) = match joined {
                    Ok((task, result)) => (task, result),
                    Err(panic) => (
                        panic.id(),
                        Err(ProviderError::new(format!("provider call panicked: {panic}"))),
                    ),
                };
                let Some(index) = queue.tasks.remove(&task) else { continue };
                match self.settle(index, result)? {
                    Ok(change) => settled.push((index, change)),
                    Err(failure) => self.fail(index, failure, &mut queue.skipped, progress),
                }
            }
            let succeeded: Vec<usize> = settled.iter().map(|(index, _)| *index).collect();
            self.record_all(settled, progress)?;
            for index in succeeded {
                queue.release(&self.operations, index);
            }
        }
        // What finished since the last journal flush (which made earlier finishes durable too).
        self.store.flush()?;
        Ok(())
    }

    /// Starts ready operations up to `parallelism` in flight: their journal entries are
    /// written together with one flush (which also makes durable the results recorded since
    /// the last one), then their calls are spawned.
    fn start_ready(
        &mut self,
        queue: &mut Queue,
        parallelism: usize,
        progress: &dyn Progress,
    ) -> Result<(), ApplyError> {
        let mut batch = Vec::new();
        while queue.running.len() + batch.len() < parallelism {
            let Some((_, Reverse(next))) = queue.ready.pop() else { break };
            match self.prepare(next) {
                Ok(prepared) => batch.push(prepared),
                Err(failure) => self.fail(next, failure, &mut queue.skipped, progress),
            }
        }
        let journal: Vec<PendingOperation> =
            batch.iter().filter_map(|prepared| prepared.journal.clone()).collect();
        if !journal.is_empty() {
            self.store.journal_begin_all(&journal)?;
        }
        for prepared in batch {
            progress.started(&self.operation(prepared.index));
            let provider = Arc::clone(&self.provider);
            let Prepared { index, kind, request, prior, planned, .. } = prepared;
            self.planned.insert(index, planned);
            let task = queue.running.spawn(async move {
                call(provider.as_ref(), kind, &request, prior.as_ref()).await
            });
            queue.tasks.insert(task.id(), index);
        }
        Ok(())
    }

    fn operation(&self, index: usize) -> Operation {
        let (position, kind) = self.operations.items[index];
        let step = &self.plan.steps[position];
        Operation {
            name: step.name.clone(),
            type_token: step.type_token.clone(),
            binding: step.binding.clone(),
            kind,
        }
    }

    /// Resolves one operation's request and the journal entry to write before its call.
    fn prepare(&self, index: usize) -> Result<Prepared, String> {
        let (position, kind) = self.operations.items[index];
        let step = &self.plan.steps[position];
        let planned = self.planned_inputs(step, kind)?;
        let mut request = self.request(step, reveal(&planned))?;
        if kind == OperationKind::CreateReplacement && step.create_before_delete {
            let replaced = step.prior.as_ref().and_then(|prior| prior.outputs.get("id"));
            request.replacing = replaced.and_then(Value::as_str).map(str::to_owned);
        }
        let prior = step.prior.as_ref().map(|prior| RecordedResource {
            inputs: reveal(&prior.inputs),
            outputs: reveal(&prior.outputs),
        });
        let journal = match kind {
            OperationKind::Read => None,
            _ => Some(pending(step, kind, planned.clone(), self.started_at_unix)),
        };
        Ok(Prepared { index, kind, request, prior, journal, planned })
    }

    /// The request for an operation on `step`, sending `inputs` (secrets revealed).
    fn request(&self, step: &Step, inputs: Value) -> Result<ResourceRequest, String> {
        let binding = self.plan.bindings.get(&step.binding).cloned().ok_or_else(|| {
            format!("binding `{}` of `{}` is missing from the plan", step.binding, step.name)
        })?;
        Ok(step.request(binding, inputs))
    }

    /// The inputs of this operation, resolved against what is live now: the prior ones for a
    /// delete (secrets still wrapped).
    fn planned_inputs(&self, step: &Step, kind: OperationKind) -> Result<Value, String> {
        match kind {
            OperationKind::Delete | OperationKind::DeleteReplaced => Ok(prior_inputs(step)),
            _ => self.resolve(step).map(Value::Object),
        }
    }

    fn resolve(&self, step: &Step) -> Result<Map<String, Value>, String> {
        let lookup = |reference: &OutputRef| {
            self.live.get(&reference.resource).and_then(|live| live.get(&reference.output))
        };
        let resolved: Map<String, Value> = step
            .desired
            .iter()
            .map(|(name, input)| (name.clone(), input.resolve(&lookup)))
            .collect();
        match resolved.iter().find(|(_, value)| contains_unknown(value)) {
            Some((property, _)) => Err(format!(
                "property `{property}` of `{}` refers to an output that is still unknown after its \
                 dependencies were applied: check that the referenced resource returns it",
                step.name
            )),
            None => Ok(resolved),
        }
    }

    /// What a finished call changes in the state; the inner error is the operation's
    /// failure. A failed update or delete clears its journal entry (the record still holds
    /// what it was, and the next plan does it again); a failed create keeps it, as its effect
    /// is unknown.
    fn settle(
        &mut self,
        index: usize,
        result: CallResult,
    ) -> Result<Result<Settled, String>, ApplyError> {
        let (position, kind) = self.operations.items[index];
        let step = &self.plan.steps[position];
        let planned = self.planned.remove(&index).unwrap_or(Value::Null);
        let outputs = match result {
            Ok(outputs) => outputs,
            Err(error) => {
                return Ok(Err(match pending_kind(step, kind) {
                    None => error.message,
                    Some(PendingKind::DeleteReplaced) => format!(
                        "{}; the replaced resource stays in the journal and the next apply \
                         deletes it",
                        error.message
                    ),
                    // A create takes several calls, and one that failed may have made the
                    // resource all the same: the entry stays, and the next apply's recovery
                    // looks for it by ownership tag, adopting and finishing what it finds.
                    Some(PendingKind::Create) => format!(
                        "{}; the next apply first checks whether the resource was made all the \
                         same, and adopts it if so",
                        error.message
                    ),
                    Some(pending) => {
                        self.store.journal_clear(step.urn.as_str(), pending)?;
                        error.message
                    }
                }));
            }
        };
        let settled = match kind {
            OperationKind::DeleteReplaced if step.create_before_delete => Settled::JournalOnly,
            OperationKind::Delete | OperationKind::DeleteReplaced => Settled::Removed,
            _ => {
                let record = ResourceRecord {
                    urn: step.urn.as_str().to_owned(),
                    type_token: step.type_token.clone(),
                    name: step.name.clone(),
                    binding: step.binding.clone(),
                    inputs: planned,
                    outputs: Value::Object(outputs.unwrap_or_default()),
                    dependencies: step
                        .dependencies
                        .iter()
                        .map(|urn| urn.as_str().to_owned())
                        .collect(),
                };
                match kind {
                    OperationKind::CreateReplacement if step.create_before_delete => {
                        let deleted = OperationKind::DeleteReplaced;
                        let replaced =
                            pending(step, deleted, prior_inputs(step), self.started_at_unix);
                        Settled::Replacing(record, replaced)
                    }
                    _ => Settled::Written(record),
                }
            }
        };
        Ok(Ok(settled))
    }

    /// Records a batch of finished operations in one state transaction, then reports them.
    fn record_all(
        &mut self,
        settled: Vec<(usize, Settled)>,
        progress: &dyn Progress,
    ) -> Result<(), ApplyError> {
        let finished: Vec<Finished<'_>> = settled
            .iter()
            .filter_map(|(index, settled)| {
                let urn = self.plan.steps[self.operations.items[*index].0].urn.as_str();
                match settled {
                    Settled::Written(record) => Some(Finished::Put(record)),
                    Settled::Replacing(record, replaced) => {
                        Some(Finished::Replaced { record, replaced })
                    }
                    Settled::Removed => Some(Finished::Remove(urn)),
                    Settled::JournalOnly => None,
                }
            })
            .collect();
        if !finished.is_empty() {
            self.store.finish_all(self.apply_id, &finished)?;
        }
        for (index, settled) in settled {
            let name = self.plan.steps[self.operations.items[index].0].name.clone();
            match settled {
                Settled::Written(record) | Settled::Replacing(record, _) => {
                    self.live.insert(name, Live { inputs: record.inputs, outputs: record.outputs });
                }
                Settled::Removed => drop(self.live.remove(&name)),
                Settled::JournalOnly => {
                    let urn = self.plan.steps[self.operations.items[index].0].urn.clone();
                    self.store.journal_clear(urn.as_str(), PendingKind::DeleteReplaced)?;
                }
            }
            let operation = self.operation(index);
            progress.finished(&operation, None);
            self.report.completed.push(operation);
        }
        Ok(())
    }

    /// Records a failure and marks everything that waits on it as skipped.
    fn fail(
        &mut self,
        index: usize,
        message: String,
        skipped: &mut [bool],
        progress: &dyn Progress,
    ) {
        let operation = self.operation(index);
        progress.finished(&operation, Some(&message));
        let failed_name = operation.name.clone();
        self.report.failed.push(Failure { operation, message });
        let mut stack: Vec<NodeIndex> =
            self.operations.graph.neighbors(NodeIndex::new(index)).collect();
        while let Some(next) = stack.pop() {
            if std::mem::replace(&mut skipped[next.index()], true) {
                continue;
            }
            self.report.skipped.push(Skipped {
                operation: self.operation(next.index()),
                because_of: failed_name.clone(),
            });
            stack.extend(self.operations.graph.neighbors(next));
        }
    }

    /// Resolves and records the stack outputs that can be resolved now.
    fn finish_outputs(&mut self) -> Result<(), ApplyError> {
        let lookup = |reference: &OutputRef| {
            self.live.get(&reference.resource).and_then(|live| live.get(&reference.output))
        };
        let outputs: BTreeMap<String, Value> = self
            .plan
            .outputs
            .iter()
            .map(|(name, input)| (name.clone(), input.resolve(&lookup)))
            .filter(|(_, value)| !contains_unknown(value))
            .collect();
        self.store.replace_outputs(self.apply_id, &outputs)?;
        self.report.outputs = outputs;
        Ok(())
    }
}

/// The inputs the state records for `step` before this run (secrets still wrapped).
fn prior_inputs(step: &Step) -> Value {
    step.prior.as_ref().map(|prior| prior.inputs.clone()).unwrap_or(Value::Null)
}

/// The kind of journal entry written before an operation of `kind` on `step`; `None` for
/// reads, which change nothing.
fn pending_kind(step: &Step, kind: OperationKind) -> Option<PendingKind> {
    Some(match kind {
        OperationKind::Read => return None,
        OperationKind::Create | OperationKind::CreateReplacement => PendingKind::Create,
        OperationKind::Update => PendingKind::Update,
        OperationKind::DeleteReplaced if step.create_before_delete => PendingKind::DeleteReplaced,
        OperationKind::Delete | OperationKind::DeleteReplaced => PendingKind::Delete,
    })
}

/// The journal entry of an operation of `kind` on `step`, sending `inputs`.
pub(crate) fn pending(
    step: &Step,
    kind: OperationKind,
    inputs: Value,
    started_at_unix: u64,
) -> PendingOperation {
    PendingOperation {
        urn: step.urn.as_str().to_owned(),
        type_token: step.type_token.clone(),
        name: step.name.clone(),
        binding: step.binding.clone(),
        kind: pending_kind(step, kind).unwrap_or(PendingKind::Create),
        inputs,
        prior_outputs: step
            .prior
            .as_ref()
            .map(|prior| prior.outputs.clone())
            .unwrap_or(Value::Null),
        started_at_unix,
        dependencies: step.dependencies.iter().map(|urn| urn.as_str().to_owned()).collect(),
    }
}

async fn call(
    provider: &dyn Provider,
    kind: OperationKind,
    request: &ResourceRequest,
    prior: Option<&RecordedResource>,
) -> CallResult {
    let missing_prior =
        || ProviderError::new(format!("`{}` has no recorded state to act on", request.name));
    match kind {
        OperationKind::Create | OperationKind::CreateReplacement => {
            provider.create(request).await.map(Some)
        }
        OperationKind::Read => provider.read_data_source(request).await.map(Some),
        OperationKind::Update => {
            provider.update(request, prior.ok_or_else(missing_prior)?).await.map(Some)
        }
        OperationKind::Delete | OperationKind::DeleteReplaced => {
            match provider.delete(request, prior.ok_or_else(missing_prior)?).await {
                Err(error) if error.not_found => Ok(None),
                other => other.map(|()| None),
            }
        }
    }
}
