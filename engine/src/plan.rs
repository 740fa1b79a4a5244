//! Planning: the pure, deterministic comparison of a declared stack with the recorded state.
//!
//! A [`Plan`] is plain data. It is built here without a clock, a network or randomness, so
//! the same stack and the same state give the same plan, byte for byte; it serializes to a
//! versioned JSON document that `apply` can execute exactly.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cairn_state::{ResourceRecord, Snapshot};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

use crate::model::{ProviderBinding, Resource, StackSpec, Urn};
use crate::policy::{Finding, PolicyErrors, blocks, check_policies};
use crate::provider::ResourceRequest;
use crate::validate::{DeclarationErrors, DependencyGraph, declaration_order_toposort, validate};
use crate::value::{Input, OutputRef, contains_unknown, redact, unknown};

/// The version of the plan document format.
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// What apply will do to one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Nothing: the recorded state matches the program.
    NoOp,
    /// Create a resource the state does not have.
    Create,
    /// Read a data source (something that exists outside this stack).
    Read,
    /// Change the resource in place.
    Update,
    /// Delete and create again (in the order the step says).
    Replace,
    /// Delete a resource the program no longer declares.
    Delete,
}

/// One changed input property of a step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PropertyChange {
    /// The property's name.
    pub property: String,
    /// Whether this change alone forces a replacement.
    pub forces_replacement: bool,
}

/// The recorded state of a resource a step changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prior {
    /// The inputs last applied.
    pub inputs: Value,
    /// The outputs the provider returned.
    pub outputs: Value,
}

/// One resource's part of a plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The resource's identity.
    pub urn: Urn,
    /// Its logical name.
    pub name: String,
    /// Its type token.
    pub type_token: String,
    /// Its provider binding's name.
    pub binding: String,
    /// What apply does.
    pub action: Action,
    /// For a replacement: whether the new resource is created before the old one is deleted.
    #[serde(default)]
    pub create_before_delete: bool,
    /// Whether the resource is a data source (read, never changed in the cloud). Deletes do
    /// not know: forgetting a data source is the provider's no-op delete.
    #[serde(default)]
    pub data_source: bool,
    /// The program's inputs, with their references, to resolve at apply time.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub desired: BTreeMap<String, Input>,
    /// The inputs as far as they are known now (unknown parts marked).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub planned: Map<String, Value>,
    /// The recorded state, for updates, replacements and deletes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior: Option<Prior>,
    /// The properties that differ from the recorded state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<PropertyChange>,
    /// When the binding moved to another account or region: where it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
    /// When the program renamed the resource (a `moved` mapping): the URN the state records
    /// it under, which apply renames without a cloud call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<Urn>,
    /// The component that declared the resource, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// URNs of the resources this one depends on (from the program, or from the state for
    /// deletes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Urn>,
}

impl Step {
    /// The request a provider call for this step sends: `inputs` (secrets revealed) to the
    /// resource in `binding`.
    pub(crate) fn request(&self, binding: ProviderBinding, inputs: Value) -> ResourceRequest {
        ResourceRequest {
            urn: self.urn.clone(),
            name: self.name.clone(),
            type_token: self.type_token.clone(),
            binding,
            inputs,
            replacing: None,
        }
    }
}

/// A stack output whose value changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputChange {
    /// The output's name.
    pub name: String,
    /// The recorded value, if any.
    pub old: Option<Value>,
    /// The planned value (maybe unknown), or `None` when the output goes away.
    pub new: Option<Value>,
}

/// Counts of a plan's changes, as the summary line shows them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Resources created (replacements included).
    pub add: usize,
    /// Resources changed in place.
    pub change: usize,
    /// Resources deleted (replacements included).
    pub destroy: usize,
    /// Data sources read.
    pub read: usize,
}

/// Everything apply will do, and against which state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// The stack's name.
    pub stack: String,
    /// The state's lineage when planned; apply refuses another.
    pub lineage: String,
    /// The state's serial when planned; apply refuses a state that has moved on.
    pub serial: u64,
    /// Every binding a step uses, including those only the state still knows.
    pub bindings: BTreeMap<String, ProviderBinding>,
    /// One step per resource: the program's in dependency order, then deletes in reverse
    /// dependency order.
    pub steps: Vec<Step>,
    /// The program's stack outputs, to resolve at apply time.
    pub outputs: BTreeMap<String, Input>,
    /// Stack outputs whose value changes.
    pub output_changes: Vec<OutputChange>,
    /// URNs whose last operation was interrupted; apply checks them first.
    pub interrupted: Vec<Urn>,
    /// Policy warnings and waived violations, shown with the plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_findings: Vec<Finding>,
}

impl Plan {
    /// The counts for the summary line.
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for step in &self.steps {
            match step.action {
                Action::Create => summary.add += 1,
                Action::Update => summary.change += 1,
                Action::Replace => {
                    summary.add += 1;
                    summary.destroy += 1;
                }
                Action::Delete => summary.destroy += 1,
                Action::Read => summary.read += 1,
                Action::NoOp => {}
            }
        }
        summary
    }

    /// Whether applying this plan would change nothing (a rename changes the state).
    pub fn is_empty(&self) -> bool {
        self.steps.iter().all(|step| step.action == Action::NoOp && step.renamed_from.is_none())
            && self.output_changes.is_empty()
    }

    /// This plan with every secret value replaced by [`crate::SENSITIVE`]: what a plan
    /// document shows (`plan --json`). Not executable: apply needs the values.
    pub fn redacted(&self) -> Plan {
        let placeholder = crate::SENSITIVE;
        let value = |value: &Value| redact(value, placeholder);
        let mut plan = self.clone();
        for step in &mut plan.steps {
            step.desired.values_mut().for_each(|input| *input = input.redacted(placeholder));
            step.planned.values_mut().for_each(|planned| *planned = value(planned));
            if let Some(prior) = &mut step.prior {
                prior.inputs = value(&prior.inputs);
                prior.outputs = value(&prior.outputs);
            }
        }
        plan.outputs.values_mut().for_each(|input| *input = input.redacted(placeholder));
        for change in &mut plan.output_changes {
            change.old = change.old.as_ref().map(value);
            change.new = change.new.as_ref().map(value);
        }
        plan
    }

    /// The steps that rename a record of the state, as `(old URN, step)`.
    pub fn renames(&self) -> impl Iterator<Item = (&Urn, &Step)> {
        self.steps.iter().filter_map(|step| step.renamed_from.as_ref().map(|old| (old, step)))
    }
}

/// Why a plan could not be made.
#[derive(Debug, Error)]
pub enum PlanError {
    /// The program's declarations are invalid.
    #[error(transparent)]
    Declarations(#[from] DeclarationErrors),
    /// The program breaks policy rules.
    #[error(transparent)]
    Policy(#[from] PolicyErrors),
    /// A protected resource would be replaced or deleted.
    #[error(
        "resource `{name}` is protected but the plan would {action} it: remove `protect` from \
         the resource first, or undo the change that forces this"
    )]
    Protected {
        /// The resource.
        name: String,
        /// `replace` or `delete`.
        action: &'static str,
    },
    /// The state records a binding the engine cannot read.
    #[error(
        "the state records provider binding `{name}` in a form this cairn cannot read ({reason}): \
         restore the state directory from a backup or upgrade cairn"
    )]
    UnreadableBinding {
        /// The binding.
        name: String,
        /// What failed.
        reason: String,
    },
}

/// Plans `stack` against `state`: validation first, then a step per resource.
pub fn plan(stack: &StackSpec, state: &Snapshot) -> Result<Plan, PlanError> {
    let graph = validate(stack)?;
    let (blocking, policy_findings): (Vec<Finding>, Vec<Finding>) =
        check_policies(stack).into_iter().partition(blocks);
    if !blocking.is_empty() {
        return Err(PlanError::Policy(PolicyErrors(blocking)));
    }
    let mut planner = Planner::new(stack, state, &graph);
    let mut steps = planner.program_steps()?;
    let destroyed = planner.delete_steps(&mut steps)?;
    let bindings = planner.bindings_for(&destroyed)?;
    let output_changes = planner.output_changes();
    Ok(Plan {
        format_version: PLAN_FORMAT_VERSION,
        stack: stack.name.clone(),
        lineage: state.metadata.lineage.clone(),
        serial: state.metadata.serial,
        bindings,
        steps,
        outputs: stack.outputs.clone(),
        output_changes,
        interrupted: interrupted(state),
        policy_findings,
    })
}

/// Every provider binding `state` refers to (its resources' and its journal entries'), as
/// it records them.
///
/// # Errors
///
/// [`PlanError::UnreadableBinding`] for a binding whose record does not describe one.
pub fn recorded_bindings(state: &Snapshot) -> Result<BTreeMap<String, ProviderBinding>, PlanError> {
    let resources = state.resources.values().map(|record| &record.binding);
    let journal = state.pending.iter().map(|op| &op.binding);
    let names: BTreeSet<&String> = resources.chain(journal).collect();
    names.into_iter().map(|name| Ok((name.clone(), recorded_binding(state, name)?))).collect()
}

/// The provider binding `name` as `state` records it.
fn recorded_binding(state: &Snapshot, name: &str) -> Result<ProviderBinding, PlanError> {
    let recorded = state.bindings.get(name).cloned().unwrap_or(Value::Null);
    serde_json::from_value(recorded).map_err(|error| PlanError::UnreadableBinding {
        name: name.to_owned(),
        reason: error.to_string(),
    })
}

/// The URN `state` records `resource` under: `urn` when it has a record there, else the URN
/// of the name a `moved` mapping says it had, when the state has that one.
fn recorded_urn(stack: &StackSpec, state: &Snapshot, resource: &Resource, urn: &Urn) -> Urn {
    if state.resources.contains_key(urn.as_str()) {
        return urn.clone();
    }
    stack
        .moves
        .iter()
        .filter(|moved| moved.to == resource.name)
        .map(|moved| {
            Urn::new(&stack.name, &resource.binding, resource.schema.type_token, &moved.from)
        })
        .find(|old| state.resources.contains_key(old.as_str()))
        .unwrap_or_else(|| urn.clone())
}

/// The URNs with operations left unfinished in the journal, each once, in order.
fn interrupted(state: &Snapshot) -> Vec<Urn> {
    let urns: BTreeSet<&str> = state.pending.iter().map(|op| op.urn.as_str()).collect();
    urns.into_iter().map(|urn| Urn::from(urn.to_owned())).collect()
}

/// Plans the deletion of everything the state records, in reverse dependency order.
pub fn plan_destroy(stack_name: &str, state: &Snapshot) -> Result<Plan, PlanError> {
    let empty = StackSpec::new(stack_name);
    let graph = DependencyGraph { dependencies: Vec::new(), order: Vec::new() };
    let mut planner = Planner::new(&empty, state, &graph);
    let mut steps = Vec::new();
    let destroyed = planner.delete_steps(&mut steps)?;
    let bindings = planner.bindings_for(&destroyed)?;
    let output_changes = state
        .outputs
        .iter()
        .map(|(name, old)| OutputChange { name: name.clone(), old: Some(old.clone()), new: None })
        .collect();
    Ok(Plan {
        format_version: PLAN_FORMAT_VERSION,
        stack: stack_name.to_owned(),
        lineage: state.metadata.lineage.clone(),
        serial: state.metadata.serial,
        bindings,
        steps,
        outputs: BTreeMap::new(),
        output_changes,
        interrupted: interrupted(state),
        policy_findings: Vec::new(),
    })
}

/// Working data of one planning pass.
struct Planner<'a> {
    stack: &'a StackSpec,
    state: &'a Snapshot,
    graph: &'a DependencyGraph,
    urns: Vec<Urn>,
    /// Per resource index: the URN the state records it under: its own, or the one of the
    /// name it was moved from while the state has nothing under its own.
    recorded: Vec<Urn>,
    /// Per resource index: its action and its planned inputs, once planned.
    planned: Vec<Option<(Action, Map<String, Value>)>>,
    /// Per resource index: whether it is replaced delete-first.
    delete_first: Vec<bool>,
    index: HashMap<&'a str, usize>,
}

impl<'a> Planner<'a> {
    fn new(stack: &'a StackSpec, state: &'a Snapshot, graph: &'a DependencyGraph) -> Self {
        let count = stack.resources.len();
        let urns: Vec<Urn> =
            stack.resources.iter().map(|resource| stack.urn_of(resource)).collect();
        let recorded = stack
            .resources
            .iter()
            .zip(&urns)
            .map(|(resource, urn)| recorded_urn(stack, state, resource, urn))
            .collect();
        Planner {
            stack,
            state,
            graph,
            urns,
            recorded,
            planned: vec![None; count],
            delete_first: vec![false; count],
            index: stack
                .resources
                .iter()
                .enumerate()
                .map(|(position, resource)| (resource.name.as_str(), position))
                .collect(),
        }
    }

    fn program_steps(&mut self) -> Result<Vec<Step>, PlanError> {
        let mut steps = Vec::with_capacity(self.graph.order.len());
        for &position in &self.graph.order {
            steps.push(self.program_step(position)?);
        }
        Ok(steps)
    }

    fn program_step(&mut self, position: usize) -> Result<Step, PlanError> {
        let resource = &self.stack.resources[position];
        let urn = self.urns[position].clone();
        let recorded = &self.recorded[position];
        let prior = self.state.resources.get(recorded.as_str());
        let renamed_from = (recorded != &urn && prior.is_some()).then(|| recorded.clone());
        let planned = self.resolve_inputs(resource);
        let moved_from = prior.and_then(|_| self.binding_move(&resource.binding));
        let changes = prior.map(|record| diff(resource, &planned, record)).unwrap_or_default();
        let action = choose_action(resource, prior.is_some(), &changes, moved_from.is_some());
        if action == Action::Replace && resource.options.protect {
            return Err(PlanError::Protected { name: resource.name.clone(), action: "replace" });
        }
        let create_before_delete = action == Action::Replace && self.may_create_first(position);
        self.delete_first[position] = action == Action::Replace && !create_before_delete;
        self.planned[position] = Some((action, planned.clone()));
        let dependencies =
            self.graph.dependencies[position].iter().map(|&dep| self.urns[dep].clone()).collect();
        let changing = action != Action::NoOp;
        Ok(Step {
            urn,
            name: resource.name.clone(),
            type_token: resource.schema.type_token.to_owned(),
            binding: resource.binding.clone(),
            action,
            create_before_delete,
            data_source: resource.schema.data_source,
            desired: if changing { resource.inputs.clone() } else { BTreeMap::new() },
            planned: if changing { planned } else { Map::new() },
            prior: prior.filter(|_| changing).map(|record| Prior {
                inputs: record.inputs.clone(),
                outputs: record.outputs.clone(),
            }),
            changes,
            moved_from,
            renamed_from,
            component: resource.options.component.clone(),
            dependencies,
        })
    }

    /// A replacement creates first unless the type or the program forbids it, or a resource
    /// it depends on is itself replaced delete-first (its old self must go before it can).
    fn may_create_first(&self, position: usize) -> bool {
        let resource = &self.stack.resources[position];
        resource.schema.create_before_delete
            && !resource.options.delete_before_replace
            && !self.graph.dependencies[position].iter().any(|&dep| self.delete_first[dep])
    }

    fn binding_move(&self, binding: &str) -> Option<String> {
        let now = self.stack.bindings.get(binding)?;
        let recorded: ProviderBinding =
            serde_json::from_value(self.state.bindings.get(binding)?.clone()).ok()?;
        (recorded.location() != now.location()).then(|| recorded.location())
    }

    fn resolve_inputs(&self, resource: &Resource) -> Map<String, Value> {
        let lookup = |reference: &OutputRef| self.lookup(reference);
        resource.inputs.iter().map(|(name, input)| (name.clone(), input.resolve(&lookup))).collect()
    }

    /// The value of a reference as far as it is known at plan time. Outputs of resources that
    /// will be created or replaced are unknown; a reference to an input reads the planned
    /// input.
    fn lookup(&self, reference: &OutputRef) -> Option<Value> {
        let &position = self.index.get(reference.resource.as_str())?;
        let target = &self.stack.resources[position];
        let (action, planned) = self.planned[position].as_ref()?;
        if !target.schema.outputs.contains(&reference.output.as_str()) {
            return planned.get(&reference.output).cloned();
        }
        if matches!(action, Action::Create | Action::Replace | Action::Read) {
            return Some(unknown());
        }
        self.state
            .resources
            .get(self.recorded[position].as_str())
            .and_then(|record| record.outputs.get(&reference.output))
            .cloned()
    }

    /// Appends a delete step for every recorded resource the program no longer declares, in
    /// reverse dependency order; returns the bindings they use.
    fn delete_steps(&mut self, steps: &mut Vec<Step>) -> Result<Vec<String>, PlanError> {
        let declared: std::collections::HashSet<&str> =
            self.urns.iter().chain(&self.recorded).map(Urn::as_str).collect();
        let gone: Vec<&ResourceRecord> = self
            .state
            .resources
            .values()
            .filter(|record| !declared.contains(record.urn.as_str()))
            .collect();
        let mut bindings = Vec::new();
        for record in reverse_dependency_order(&gone) {
            if !bindings.contains(&record.binding) {
                bindings.push(record.binding.clone());
            }
            steps.push(delete_step(record));
        }
        Ok(bindings)
    }

    fn bindings_for(
        &self,
        destroyed: &[String],
    ) -> Result<BTreeMap<String, ProviderBinding>, PlanError> {
        let mut bindings = self.stack.bindings.clone();
        for name in destroyed {
            if bindings.contains_key(name) {
                continue;
            }
            bindings.insert(name.clone(), recorded_binding(self.state, name)?);
        }
        Ok(bindings)
    }

    fn output_changes(&self) -> Vec<OutputChange> {
        let lookup = |reference: &OutputRef| self.lookup(reference);
        let mut changes = Vec::new();
        for (name, input) in &self.stack.outputs {
            let new = input.resolve(&lookup);
            let old = self.state.outputs.get(name);
            if old != Some(&new) || contains_unknown(&new) {
                changes.push(OutputChange {
                    name: name.clone(),
                    old: old.cloned(),
                    new: Some(new),
                });
            }
        }
        for (name, old) in &self.state.outputs {
            if !self.stack.outputs.contains_key(name) {
                changes.push(OutputChange {
                    name: name.clone(),
                    old: Some(old.clone()),
                    new: None,
                });
            }
        }
        changes
    }
}

/// The properties whose planned value differs from the recorded one.
fn diff(
    resource: &Resource,
    planned: &Map<String, Value>,
    record: &ResourceRecord,
) -> Vec<PropertyChange> {
    let recorded = record.inputs.as_object();
    let old = |name: &str| recorded.and_then(|inputs| inputs.get(name));
    let mut names: Vec<&String> = planned.keys().collect();
    if let Some(inputs) = recorded {
        names.extend(inputs.keys().filter(|name| !planned.contains_key(*name)));
    }
    names.sort();
    names
        .into_iter()
        .filter(|name| !resource.options.ignore_changes.contains(name))
        .filter(|name| {
            let new = planned.get(*name);
            contains_unknown_opt(new) || new != old(name)
        })
        .map(|name| PropertyChange {
            property: name.clone(),
            forces_replacement: resource.schema.forces_replacement(name)
                || resource.options.replace_on_changes.contains(name),
        })
        .collect()
}

fn contains_unknown_opt(value: Option<&Value>) -> bool {
    value.is_some_and(contains_unknown)
}

fn choose_action(
    resource: &Resource,
    exists: bool,
    changes: &[PropertyChange],
    moved: bool,
) -> Action {
    let data_source = resource.schema.data_source;
    match () {
        _ if !exists && data_source => Action::Read,
        _ if !exists => Action::Create,
        _ if changes.is_empty() && !moved => Action::NoOp,
        _ if data_source => Action::Read,
        _ if moved || changes.iter().any(|change| change.forces_replacement) => Action::Replace,
        _ => Action::Update,
    }
}

fn delete_step(record: &ResourceRecord) -> Step {
    Step {
        urn: Urn::from(record.urn.clone()),
        name: record.name.clone(),
        type_token: record.type_token.clone(),
        binding: record.binding.clone(),
        action: Action::Delete,
        create_before_delete: false,
        data_source: false,
        desired: BTreeMap::new(),
        planned: Map::new(),
        prior: Some(Prior { inputs: record.inputs.clone(), outputs: record.outputs.clone() }),
        changes: Vec::new(),
        moved_from: None,
        renamed_from: None,
        component: None,
        dependencies: record.dependencies.iter().cloned().map(Urn::from).collect(),
    }
}

/// `records` ordered so that every resource comes before the ones it depends on.
fn reverse_dependency_order<'r>(records: &[&'r ResourceRecord]) -> Vec<&'r ResourceRecord> {
    let position: HashMap<&str, usize> =
        records.iter().enumerate().map(|(i, record)| (record.urn.as_str(), i)).collect();
    let dependencies: Vec<Vec<usize>> = records
        .iter()
        .map(|record| {
            record
                .dependencies
                .iter()
                .filter_map(|urn| position.get(urn.as_str()).copied())
                .collect()
        })
        .collect();
    // A cycle in recorded dependencies cannot come from a validated program; fall back to
    // the recorded order rather than refuse to clean up.
    let order =
        declaration_order_toposort(&dependencies).unwrap_or_else(|| (0..records.len()).collect());
    order.into_iter().rev().map(|i| records[i]).collect()
}
