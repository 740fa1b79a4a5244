//! Test resource types and helpers shared by the engine's tests: a tiny "network" cloud
//! declared directly on the engine's model, applied to the in-memory provider.

#![allow(dead_code, missing_docs)]

use std::collections::BTreeMap;
use std::sync::Arc;

use cairn_engine::memory::MemoryCloud;
use cairn_engine::{
    ApplyOptions, ApplyReport, Input, InputIssue, OutputRef, Plan, PropertySpec, ProviderBinding,
    Resource, ResourceOptions, ResourceView, RunKind, Schema, StackSpec, apply,
};
use cairn_state::Store;
use serde_json::{Value, json};

fn no_checks(_: &ResourceView<'_>) -> Vec<InputIssue> {
    Vec::new()
}

fn size_at_most_ten(view: &ResourceView<'_>) -> Vec<InputIssue> {
    match view.input("size").and_then(Input::as_literal).and_then(Value::as_i64) {
        Some(size) if size > 10 => {
            vec![InputIssue::new("size", format!("{size} is more than 10"), "use 10 or less")]
        }
        _ => Vec::new(),
    }
}

/// A network: `cidr` forces replacement, `label` changes in place.
pub static NETWORK: Schema = Schema {
    type_token: "test:net/Network",
    properties: &[
        PropertySpec { name: "cidr", force_new: true, is_name: false },
        PropertySpec { name: "label", force_new: false, is_name: false },
        PropertySpec { name: "tags", force_new: false, is_name: false },
    ],
    outputs: &["id", "arn"],
    create_before_delete: true,
    taggable: true,
    data_source: false,
    validate: no_checks,
};

/// A subnet of a network: `network_id` and `size` force replacement; deleted first.
pub static SUBNET: Schema = Schema {
    type_token: "test:net/Subnet",
    properties: &[
        PropertySpec { name: "network_id", force_new: true, is_name: false },
        PropertySpec { name: "size", force_new: true, is_name: false },
    ],
    outputs: &["id"],
    create_before_delete: false,
    taggable: false,
    data_source: false,
    validate: size_at_most_ten,
};

/// A policy document attached to anything: `document` changes in place.
pub static POLICY: Schema = Schema {
    type_token: "test:iam/Policy",
    properties: &[
        PropertySpec { name: "target", force_new: false, is_name: false },
        PropertySpec { name: "document", force_new: false, is_name: false },
        PropertySpec { name: "token", force_new: false, is_name: false },
    ],
    outputs: &["id"],
    create_before_delete: true,
    taggable: false,
    data_source: false,
    validate: no_checks,
};

/// A generic node for graph tests: any inputs, nothing forces replacement.
pub static NODE: Schema = Schema {
    type_token: "test:graph/Node",
    properties: &[PropertySpec { name: "after", force_new: false, is_name: false }],
    outputs: &["id"],
    create_before_delete: true,
    taggable: false,
    data_source: false,
    validate: no_checks,
};

/// The one binding of the test stacks.
pub fn binding() -> ProviderBinding {
    ProviderBinding {
        name: "main".into(),
        account_id: "000000000001".into(),
        region: "test-1".into(),
        settings: Value::Null,
    }
}

/// A stack with the test binding.
pub fn stack() -> StackSpec {
    let mut stack = StackSpec::new("test");
    stack.bindings.insert("main".into(), binding());
    stack
}

/// A reference to `output` of `resource`.
pub fn output(resource: &str, output: &str) -> Input {
    Input::Ref(OutputRef { resource: resource.into(), output: output.into() })
}

/// Adds a resource to `stack`.
pub fn add(stack: &mut StackSpec, name: &str, schema: &'static Schema, inputs: &[(&str, Input)]) {
    stack.resources.push(Resource {
        name: name.into(),
        binding: "main".into(),
        schema,
        inputs: inputs.iter().map(|(key, value)| ((*key).to_owned(), value.clone())).collect(),
        options: ResourceOptions::default(),
    });
}

/// A literal input.
pub fn lit(value: Value) -> Input {
    Input::Literal(value)
}

/// The example stack: a network, two subnets, a policy on the network.
pub fn network_stack(cidr: &str, label: &str, sizes: [i64; 2], document: Value) -> StackSpec {
    let mut stack = stack();
    add(&mut stack, "net", &NETWORK, &[("cidr", lit(json!(cidr))), ("label", lit(json!(label)))]);
    for (number, size) in sizes.iter().enumerate() {
        add(
            &mut stack,
            &format!("subnet-{}", number + 1),
            &SUBNET,
            &[("network_id", output("net", "id")), ("size", lit(json!(size)))],
        );
    }
    add(
        &mut stack,
        "policy",
        &POLICY,
        &[("target", output("net", "arn")), ("document", Input::Json(Box::new(lit(document))))],
    );
    stack.outputs.insert("NetworkId".into(), output("net", "id"));
    stack
}

/// A state store in a temporary directory.
pub struct TempState {
    pub store: Store,
    pub dir: tempfile::TempDir,
}

impl TempState {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("state")).expect("open state");
        TempState { store, dir }
    }
}

/// Plans `stack` against `store` and applies it to `cloud`.
pub async fn plan_and_apply(
    stack: &StackSpec,
    store: &Store,
    cloud: &Arc<MemoryCloud>,
    parallelism: usize,
) -> (Plan, ApplyReport) {
    let plan = cairn_engine::plan(stack, &store.snapshot().expect("snapshot")).expect("plan");
    let report = run(&plan, store, cloud, parallelism, RunKind::Apply).await;
    (plan, report)
}

/// Destroys everything `store` records.
pub async fn destroy(store: &Store, cloud: &Arc<MemoryCloud>) -> ApplyReport {
    let plan = cairn_engine::plan_destroy("test", &store.snapshot().expect("snapshot"))
        .expect("destroy plan");
    run(&plan, store, cloud, 10, RunKind::Destroy).await
}

async fn run(
    plan: &Plan,
    store: &Store,
    cloud: &Arc<MemoryCloud>,
    parallelism: usize,
    kind: RunKind,
) -> ApplyReport {
    let options = ApplyOptions { parallelism, kind, started_at_unix: 1 };
    let provider: Arc<dyn cairn_engine::Provider> = cloud.clone();
    apply(plan, store, provider, options, &cairn_engine::NoProgress).await.expect("apply runs")
}

/// The names of the resources the state records.
pub fn recorded_names(store: &Store) -> Vec<String> {
    let mut names: Vec<String> = store
        .snapshot()
        .expect("snapshot")
        .resources
        .into_values()
        .map(|record| record.name)
        .collect();
    names.sort();
    names
}

/// The actions of a plan by resource name.
pub fn actions(plan: &Plan) -> BTreeMap<String, cairn_engine::Action> {
    plan.steps.iter().map(|step| (step.name.clone(), step.action)).collect()
}
