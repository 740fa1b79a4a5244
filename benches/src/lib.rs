//! Generators shared by the benchmarks: large synthetic stacks and the states that match
//! them, built without any cloud.

use std::path::Path;

use cairn_engine::{
    Input, InputIssue, OutputRef, Plan, PropertySpec, ProviderBinding, Resource, ResourceOptions,
    ResourceView, Schema, StackSpec,
};
use cairn_state::{OperationKind, ResourceRecord, Store};
use serde_json::{Value, json};

fn no_checks(_: &ResourceView<'_>) -> Vec<InputIssue> {
    Vec::new()
}

/// A network-like parent type.
pub static PARENT: Schema = Schema {
    type_token: "bench:net/Parent",
    properties: &[
        PropertySpec { name: "cidr", force_new: true, is_name: false },
        PropertySpec { name: "tags", force_new: false, is_name: false },
    ],
    outputs: &["id", "arn"],
    create_before_delete: true,
    taggable: true,
    data_source: false,
    validate: no_checks,
};

/// A child that references its parent twice (id and an interpolated ARN).
pub static CHILD: Schema = Schema {
    type_token: "bench:net/Child",
    properties: &[
        PropertySpec { name: "parent_id", force_new: true, is_name: false },
        PropertySpec { name: "policy", force_new: false, is_name: false },
        PropertySpec { name: "tags", force_new: false, is_name: false },
    ],
    outputs: &["id"],
    create_before_delete: false,
    taggable: true,
    data_source: false,
    validate: no_checks,
};

/// A stack of `count` resources: one parent for every nine children.
pub fn stack(count: usize) -> StackSpec {
    let mut spec = StackSpec::new("bench");
    spec.bindings.insert(
        "main".into(),
        ProviderBinding {
            name: "main".into(),
            account_id: "000000000001".into(),
            region: "bench-1".into(),
            settings: Value::Null,
        },
    );
    let tags =
        Input::Literal(json!({"CostCenter": "cc-1", "Environment": "bench", "Owner": "platform"}));
    for index in 0..count {
        let parent = index - index % 10;
        let (schema, inputs) = if index == parent {
            (&PARENT, vec![("cidr", Input::Literal(json!(format!("10.{}.0.0/16", index % 250))))])
        } else {
            let parent_name = format!("r{parent:06}");
            let reference = |output: &str| {
                Input::Ref(OutputRef { resource: parent_name.clone(), output: output.into() })
            };
            let policy = Input::Json(Box::new(Input::Map(
                [
                    ("Effect".to_owned(), Input::string("Allow")),
                    ("Resource".to_owned(), reference("arn")),
                ]
                .into(),
            )));
            (&CHILD, vec![("parent_id", reference("id")), ("policy", policy)])
        };
        let mut inputs: std::collections::BTreeMap<String, Input> =
            inputs.into_iter().map(|(key, value)| (key.to_owned(), value)).collect();
        inputs.insert("tags".into(), tags.clone());
        spec.resources.push(Resource {
            name: format!("r{index:06}"),
            binding: "main".into(),
            schema,
            inputs,
            options: ResourceOptions::default(),
        });
    }
    spec
}

/// Writes the state `plan` would leave if applied, with made-up ids, into `dir`: planning
/// the same stack against it again changes nothing.
pub fn write_applied_state(dir: &Path, spec: &StackSpec) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open(dir)?;
    let apply = store.begin_apply(OperationKind::Apply, 1)?;
    let mut state = cairn_engine::Snapshot::default();
    // Plan twice: the first pass makes the ids, the second resolves the references to them.
    for _ in 0..2 {
        let plan = cairn_engine::plan(spec, &state)?;
        state.resources.extend(records(&plan).map(|record| (record.urn.clone(), record)));
    }
    for record in state.resources.values() {
        store.put_resource(apply, record)?;
    }
    store.put_bindings(&[("main".to_owned(), json!(spec.bindings["main"]))].into())?;
    store.flush()?;
    Ok(())
}

/// Records for the steps of `plan` that change something.
fn records(plan: &Plan) -> impl Iterator<Item = ResourceRecord> + '_ {
    plan.steps.iter().filter(|step| step.action != cairn_engine::Action::NoOp).map(|step| {
        let id = format!("id-{}", step.name);
        ResourceRecord {
            urn: step.urn.to_string(),
            type_token: step.type_token.clone(),
            name: step.name.clone(),
            binding: step.binding.clone(),
            inputs: Value::Object(step.planned.clone()),
            outputs: json!({"id": id, "arn": format!("arn:bench:{id}")}),
            dependencies: step.dependencies.iter().map(ToString::to_string).collect(),
        }
    })
}
