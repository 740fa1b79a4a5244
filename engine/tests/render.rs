//! Snapshot tests of plan rendering: create, update, replace, delete, no-op and unknowns.

mod common;

use std::sync::Arc;

use cairn_engine::memory::MemoryCloud;
use cairn_engine::{RenderOptions, render_plan};
use common::{TempState, network_stack, plan_and_apply};
use serde_json::json;

fn policy(actions: &[&str]) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})
}

fn render(stack: &cairn_engine::StackSpec, state: &TempState) -> String {
    let plan = cairn_engine::plan(stack, &state.store.snapshot().expect("snapshot")).expect("plan");
    render_plan(&plan, RenderOptions::default())
}

async fn applied(stack: &cairn_engine::StackSpec) -> TempState {
    let state = TempState::new();
    let cloud = Arc::new(MemoryCloud::new());
    let (_, report) = plan_and_apply(stack, &state.store, &cloud, 4).await;
    assert!(report.succeeded(), "{report:#?}");
    state
}

fn base() -> cairn_engine::StackSpec {
    network_stack("10.0.0.0/16", "trading", [4, 8], policy(&["ec2:Describe*"]))
}

#[test]
fn create_shows_every_input_and_unknown_references() {
    let rendered = render(&base(), &TempState::new());
    assert!(rendered.contains("(known after apply)"));
    insta::assert_snapshot!(rendered);
}

#[tokio::test]
async fn no_op_says_no_changes() {
    let state = applied(&base()).await;
    insta::assert_snapshot!(render(&base(), &state));
}

#[tokio::test]
async fn update_shows_only_changed_properties_and_diffs_json() {
    let state = applied(&base()).await;
    let changed = network_stack(
        "10.0.0.0/16",
        "trading-renamed",
        [4, 8],
        policy(&["ec2:Describe*", "ec2:AcceptVpcPeeringConnection"]),
    );
    insta::assert_snapshot!(render(&changed, &state));
}

#[tokio::test]
async fn replace_propagates_unknowns_to_dependents() {
    let state = applied(&base()).await;
    let moved = network_stack("10.9.0.0/16", "trading", [4, 8], policy(&["ec2:Describe*"]));
    insta::assert_snapshot!(render(&moved, &state));
}

#[tokio::test]
async fn delete_lists_what_the_program_no_longer_declares() {
    let state = applied(&base()).await;
    let mut smaller = base();
    smaller.resources.retain(|resource| resource.name != "subnet-2");
    insta::assert_snapshot!(render(&smaller, &state));
}

#[tokio::test]
async fn secrets_are_redacted() {
    let mut stack = base();
    if let Some(policy) = stack.resources.iter_mut().find(|resource| resource.name == "policy") {
        policy.inputs.insert(
            "token".into(),
            cairn_engine::Input::Secret(Box::new(cairn_engine::Input::string("hunter2"))),
        );
    }
    let rendered = render(&stack, &TempState::new());
    assert!(!rendered.contains("hunter2"), "{rendered}");
    assert!(rendered.contains("(sensitive value)"), "{rendered}");
}
