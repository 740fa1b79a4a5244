//! Apply and destroy against the in-memory cloud: scheduling, failures, replacement order,
//! the journal and recovery.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cairn_engine::memory::{Call, Fault, MemoryCloud};
use cairn_engine::{Action, OperationKind, Provider, ResourceRequest, Urn};
use cairn_state::{PendingKind, PendingOperation};
use common::{
    NODE, TempState, actions, add, binding, destroy, lit, network_stack, output, plan_and_apply,
    recorded_names, stack,
};
use serde_json::json;

fn policy() -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": []})
}

#[tokio::test]
async fn a_failure_skips_only_its_dependents_and_the_next_apply_finishes_the_rest() {
    let state = TempState::new();
    let cloud = Arc::new(MemoryCloud::new());
    let mut spec = network_stack("10.0.0.0/16", "a", [1, 2], policy());
    add(&mut spec, "independent", &NODE, &[]);
    add(&mut spec, "after-subnet-1", &NODE, &[("after", output("subnet-1", "id"))]);
    cloud.inject("subnet-1", Call::Create, Fault::Fail, 1);

    let (_, report) = plan_and_apply(&spec, &state.store, &cloud, 10).await;

    let failed: Vec<&str> = report.failed.iter().map(|f| f.operation.name.as_str()).collect();
    let skipped: Vec<&str> = report.skipped.iter().map(|s| s.operation.name.as_str()).collect();
    assert_eq!(failed, ["subnet-1"]);
    assert_eq!(skipped, ["after-subnet-1"]);
    assert_eq!(report.skipped[0].because_of, "subnet-1");
    assert_eq!(recorded_names(&state.store), ["independent", "net", "policy", "subnet-2"]);
    assert_eq!(cloud.resources().len(), 4, "the cloud holds exactly the successes");
    let pending = state.store.pending_operations().expect("journal");
    let pending: Vec<(&str, PendingKind)> =
        pending.iter().map(|entry| (entry.name.as_str(), entry.kind)).collect();
    assert_eq!(pending, [("subnet-1", PendingKind::Create)], "its effect is unknown");

    let recovered = recover(&state, &cloud, &spec).await;
    assert_eq!(recovered.cleared, ["subnet-1"], "it was not made");
    let (plan, report) = plan_and_apply(&spec, &state.store, &cloud, 10).await;
    assert!(report.succeeded(), "{report:#?}");
    let planned = actions(&plan);
    assert_eq!(planned["subnet-1"], Action::Create);
    assert_eq!(planned["after-subnet-1"], Action::Create);
    assert_eq!(planned["net"], Action::NoOp);
    assert_eq!(recorded_names(&state.store).len(), 6);
}

fn independent_nodes(count: usize) -> cairn_engine::StackSpec {
    let mut spec = stack();
    for number in 0..count {
        add(&mut spec, &format!("node-{number:02}"), &NODE, &[]);
    }
    spec
}

#[tokio::test(start_paused = true)]
async fn parallelism_bounds_calls_in_flight() {
    let state = TempState::new();
    let cloud = Arc::new(MemoryCloud::new());
    cloud.set_latency(NODE.type_token, Duration::from_secs(1));

    let (_, report) = plan_and_apply(&independent_nodes(50), &state.store, &cloud, 10).await;

    assert!(report.succeeded());
    assert_eq!(cloud.max_concurrency(), 10, "ten at a time, never more");
    let mut calls = cloud.calls();
    calls.sort_by_key(|call| call.started);
    // Five waves of ten: the (k+10)-th call starts only after the k-th has finished, and
    // every call of a wave starts before any call of that wave finishes.
    for (index, call) in calls.iter().enumerate().skip(10) {
        assert!(calls[index - 10].finished < call.started, "call {index} started too early");
    }
    for wave in calls.chunks(10) {
        let last_start = wave.iter().map(|call| call.started).max().unwrap_or_default();
        let first_end = wave.iter().map(|call| call.finished).min().unwrap_or_default();
        assert!(last_start < first_end, "a wave runs side by side");
    }
}

#[tokio::test(start_paused = true)]
async fn the_longest_remaining_path_starts_first() {
    let state = TempState::new();
    let cloud = Arc::new(MemoryCloud::new());
    cloud.set_latency(NODE.type_token, Duration::from_secs(1));
    let mut spec = independent_nodes(5);
    add(&mut spec, "chain-1", &NODE, &[]);
    add(&mut spec, "chain-2", &NODE, &[("after", output("chain-1", "id"))]);
    add(&mut spec, "chain-3", &NODE, &[("after", output("chain-2", "id"))]);

    plan_and_apply(&spec, &state.store, &cloud, 1).await;

    let mut calls = cloud.calls();
    calls.sort_by_key(|call| call.started);
    assert_eq!(calls[0].name, "chain-1", "the head of the longest chain goes first");
}

#[tokio::test]
async fn replacement_creates_first_or_deletes_first_as_the_type_says() {
    let state = TempState::new();
    let cloud = Arc::new(MemoryCloud::new());
    plan_and_apply(&network_stack("10.0.0.0/16", "a", [1, 2], policy()), &state.store, &cloud, 10)
        .await;
    let before = cloud.calls().len();

    let moved = network_stack("10.9.0.0/16", "a", [1, 2], policy());
    let (plan, report) = plan_and_apply(&moved, &state.store, &cloud, 10).await;

    assert!(report.succeeded(), "{report:#?}");
    let kinds: Vec<(String, OperationKind)> =
        report.completed.iter().map(|op| (op.name.clone(), op.kind)).collect();
    let position = |name: &str, kind| {
        kinds.iter().position(|(n, k)| n == name && *k == kind).expect("operation ran")
    };
    // The network creates its replacement first and is deleted last, after every dependent
    // moved to the new one; subnets collide with themselves and are deleted first.
    assert!(
        position("net", OperationKind::CreateReplacement)
            < position("subnet-1", OperationKind::CreateReplacement)
    );
    assert!(
        position("subnet-1", OperationKind::DeleteReplaced)
            < position("subnet-1", OperationKind::CreateReplacement)
    );
    assert!(
        position("policy", OperationKind::Update) < position("net", OperationKind::DeleteReplaced)
    );
    assert_eq!(actions(&plan)["policy"], Action::Update);
    assert_eq!(cloud.resources().len(), 4, "old resources are gone");
    assert!(cloud.calls().len() > before);
}

#[tokio::test]
async fn destroy_runs_in_reverse_dependency_order_and_empties_the_cloud() {
    let state = TempState::new();
    let cloud = Arc::new(MemoryCloud::new());
    plan_and_apply(&network_stack("10.0.0.0/16", "a", [1, 2], policy()), &state.store, &cloud, 10)
        .await;

    let report = destroy(&state.store, &cloud).await;

    assert!(report.succeeded());
    let order: Vec<&str> = report.completed.iter().map(|op| op.name.as_str()).collect();
    let net = order.iter().position(|name| *name == "net").expect("net deleted");
    assert_eq!(net, order.len() - 1, "the network goes last: {order:?}");
    assert!(cloud.resources().is_empty());
    assert!(recorded_names(&state.store).is_empty());
    assert!(state.store.snapshot().expect("snapshot").outputs.is_empty());
}

#[tokio::test]
async fn an_interrupted_create_is_adopted_not_created_twice() {
    let state = TempState::new();
    let cloud = Arc::new(MemoryCloud::new());
    let mut spec = stack();
    add(&mut spec, "lonely", &NODE, &[("after", lit(json!("x")))]);
    let urn = spec.urn_of(&spec.resources[0]);
    // What a crash between the cloud call and the state write leaves behind: the journal
    // entry written before the call, and the resource in the cloud.
    state
        .store
        .journal_begin(&PendingOperation {
            urn: urn.as_str().to_owned(),
            type_token: NODE.type_token.into(),
            name: "lonely".into(),
            binding: "main".into(),
            kind: PendingKind::Create,
            inputs: json!({"after": "x"}),
            prior_outputs: serde_json::Value::Null,
            started_at_unix: 1,
            dependencies: Vec::new(),
        })
        .expect("journal");
    let request = ResourceRequest {
        urn: Urn::from(urn.as_str().to_owned()),
        name: "lonely".into(),
        type_token: NODE.type_token.into(),
        binding: binding(),
        inputs: json!({"after": "x"}),
        replacing: None,
    };
    let created = cloud.create(&request).await.expect("created in the cloud");

    let plan = cairn_engine::plan(&spec, &state.store.snapshot().expect("snapshot")).expect("plan");
    assert_eq!(
        plan.interrupted,
        std::slice::from_ref(&urn),
        "the plan warns about the interrupted create"
    );
    let recovered =
        cairn_engine::recover_interrupted(&state.store, cloud.as_ref(), &spec.bindings, 2)
            .await
            .expect("recovery");
    assert_eq!(recovered.adopted, ["lonely"]);

    let (plan, _) = plan_and_apply(&spec, &state.store, &cloud, 10).await;
    assert_eq!(actions(&plan)["lonely"], Action::NoOp, "adopted, so nothing to create");
    assert_eq!(cloud.resources().len(), 1, "created once");
    let record = state.store.snapshot().expect("snapshot").resources[urn.as_str()].clone();
    assert_eq!(record.outputs["id"], created["id"]);
}

/// Recovers what `state`'s journal holds against `cloud`, as every apply does first.
async fn recover(
    state: &TempState,
    cloud: &Arc<MemoryCloud>,
    spec: &cairn_engine::StackSpec,
) -> cairn_engine::RecoveryReport {
    cairn_engine::recover_interrupted(&state.store, cloud.as_ref(), &spec.bindings, 2)
        .await
        .expect("recovery")
}

#[tokio::test]
async fn a_failed_create_stays_journaled_and_the_state_as_it_was() {
    let state = TempState::new();
    let cloud = Arc::new(MemoryCloud::new());
    let mut spec = stack();
    add(&mut spec, "doomed", &NODE, &[]);
    cloud.inject("doomed", Call::Create, Fault::Fail, 1);
    let serial = state.store.metadata().expect("metadata").serial;

    let (_, report) = plan_and_apply(&spec, &state.store, &cloud, 10).await;

    assert_eq!(report.failed.len(), 1);
    assert!(report.failed[0].message.contains("checks whether the resource was made"));
    let pending = state.store.pending_operations().expect("journal");
    assert_eq!(pending.len(), 1, "a failed create may have made the resource all the same");
    assert_eq!(pending[0].kind, PendingKind::Create);
    assert_eq!(state.store.metadata().expect("metadata").serial, serial);

    assert_eq!(recover(&state, &cloud, &spec).await.cleared, ["doomed"], "nothing was made");
    let (_, report) = plan_and_apply(&spec, &state.store, &cloud, 10).await;
    assert!(report.succeeded(), "{report:#?}");
    assert_eq!(cloud.resources().len(), 1, "made once");
}

#[tokio::test]
async fn a_create_that_failed_half_way_is_adopted_and_finished_not_made_twice() {
    let state = TempState::new();
    let cloud = Arc::new(MemoryCloud::new());
    let mut spec = stack();
    add(&mut spec, "half", &NODE, &[("after", lit(json!("closed")))]);
    // The create's first call made the resource; a later one (the one that closes AWS's open
    // default) failed, so the cloud holds it with the default.
    cloud.inject("half", Call::Create, Fault::FailAfterEffect, 1);
    let (_, report) = plan_and_apply(&spec, &state.store, &cloud, 10).await;
    assert_eq!(report.failed.len(), 1);
    let (id, _) = cloud.resources().into_iter().next().expect("made");
    cloud.change_outside(&id, "after", json!("open default"));

    let recovered = recover(&state, &cloud, &spec).await;

    assert_eq!(recovered.adopted, ["half"]);
    let record = state.store.snapshot().expect("snapshot").resources.into_values().next();
    let record = record.expect("recorded");
    assert_eq!(record.outputs["id"], json!(id));
    assert_eq!(record.inputs["after"], json!("open default"), "recorded as the cloud has it");
    let (plan, report) = plan_and_apply(&spec, &state.store, &cloud, 10).await;
    assert_eq!(actions(&plan)["half"], Action::Update, "the plan finishes it");
    assert!(report.succeeded(), "{report:#?}");
    let resources = cloud.resources();
    assert_eq!(resources.len(), 1, "never made twice");
    assert_eq!(resources[&id].inputs["after"], json!("closed"));
}

#[tokio::test]
async fn a_replacement_made_by_a_failed_create_is_told_from_the_resource_it_replaces() {
    let state = TempState::new();
    let cloud = Arc::new(MemoryCloud::new());
    plan_and_apply(&network_stack("10.0.0.0/16", "a", [1, 2], policy()), &state.store, &cloud, 10)
        .await;
    let net = |store: &cairn_state::Store| {
        let snapshot = store.snapshot().expect("snapshot");
        snapshot.resources.values().find(|record| record.name == "net").cloned().expect("net")
    };
    let old_id = net(&state.store).outputs["id"].clone();
    let moved = network_stack("10.9.0.0/16", "a", [1, 2], policy());
    cloud.inject("net", Call::Create, Fault::FailAfterEffect, 1);
    let (_, report) = plan_and_apply(&moved, &state.store, &cloud, 10).await;
    assert_eq!(report.failed.len(), 1, "{report:#?}");
    let networks = cloud.resources().values().filter(|found| found.name == "net").count();
    assert_eq!(networks, 2, "both networks carry the same ownership");

    let recovered = recover(&state, &cloud, &moved).await;

    assert_eq!(recovered.adopted, ["net"]);
    let adopted = net(&state.store);
    assert_ne!(adopted.outputs["id"], old_id, "the replacement, not the old network");
    let pending = state.store.pending_operations().expect("journal");
    assert_eq!(pending.len(), 1, "{pending:#?}");
    assert_eq!(pending[0].kind, PendingKind::DeleteReplaced, "the old one is still to delete");
    assert_eq!(pending[0].prior_outputs["id"], old_id);

    let (_, report) = plan_and_apply(&moved, &state.store, &cloud, 10).await;
    assert!(report.succeeded(), "{report:#?}");
    assert_eq!(recover(&state, &cloud, &moved).await.replaced_deleted, ["net"]);
    assert!(!cloud.resources().contains_key(old_id.as_str().unwrap_or_default()));
    assert_eq!(cloud.resources().len(), 4, "one of each, nothing orphaned");
    let (plan, _) = plan_and_apply(&moved, &state.store, &cloud, 10).await;
    assert!(plan.is_empty(), "converged");
}

#[tokio::test]
async fn a_lost_state_finds_what_the_plan_would_create_again_and_adopts_it_layer_by_layer() {
    let state = TempState::new();
    let cloud = Arc::new(MemoryCloud::new());
    let spec = network_stack("10.0.0.0/16", "a", [1, 2], policy());
    plan_and_apply(&spec, &state.store, &cloud, 10).await;
    let lost = TempState::new();
    let provider: Arc<dyn Provider> = cloud.clone();
    let mut adopted = Vec::new();
    // A type that looks up by ownership tag needs no input it cannot know yet: one round finds
    // all (`apply --adopt-owned` repeats until a round finds nothing).
    for _ in 0..3 {
        let plan =
            cairn_engine::plan(&spec, &lost.store.snapshot().expect("snapshot")).expect("plan");
        let owned = cairn_engine::find_already_owned(&plan, Arc::clone(&provider), 4)
            .await
            .expect("looked up");
        if owned.is_empty() {
            break;
        }
        cairn_engine::journal_for_adoption(&lost.store, &plan, &owned, 2).expect("journaled");
        adopted.push(recover(&lost, &cloud, &spec).await.adopted);
    }

    assert_eq!(adopted, [["policy", "net", "subnet-1", "subnet-2"]]);
    let (plan, _) = plan_and_apply(&spec, &lost.store, &cloud, 10).await;
    let planned = actions(&plan);
    assert!(planned.values().all(|action| *action == Action::NoOp), "{planned:#?}");
    assert_eq!(cloud.resources().len(), 4, "nothing made twice");
}

#[tokio::test]
async fn a_stale_plan_is_refused() {
    let state = TempState::new();
    let cloud = Arc::new(MemoryCloud::new());
    let spec = network_stack("10.0.0.0/16", "a", [1, 2], policy());
    let stale =
        cairn_engine::plan(&spec, &state.store.snapshot().expect("snapshot")).expect("plan");
    plan_and_apply(&spec, &state.store, &cloud, 10).await;

    let options = cairn_engine::ApplyOptions {
        parallelism: 10,
        kind: cairn_engine::RunKind::Apply,
        started_at_unix: 3,
    };
    let provider: Arc<dyn Provider> = cloud.clone();
    let error =
        cairn_engine::apply(&stale, &state.store, provider, options, &cairn_engine::NoProgress)
            .await
            .expect_err("stale");
    assert!(error.to_string().contains("run `plan` again"), "{error}");
}

/// The network applied at 10.0.0.0/16, then moved to 10.9.0.0/16 (a create-first
/// replacement of `net`) with `fault` injected into the delete of the old network.
async fn replace_the_network_with_its_delete_failing(
    fault: Fault,
) -> (TempState, Arc<MemoryCloud>, cairn_engine::StackSpec, serde_json::Value) {
    let state = TempState::new();
    let cloud = Arc::new(MemoryCloud::new());
    plan_and_apply(&network_stack("10.0.0.0/16", "a", [1, 2], policy()), &state.store, &cloud, 10)
        .await;
    let net_urn = |store: &cairn_state::Store| {
        let snapshot = store.snapshot().expect("snapshot");
        snapshot.resources.values().find(|record| record.name == "net").cloned().expect("net")
    };
    let old = net_urn(&state.store);
    cloud.inject("net", Call::Delete, fault, 1);

    let moved = network_stack("10.9.0.0/16", "a", [1, 2], policy());
    let (_, report) = plan_and_apply(&moved, &state.store, &cloud, 10).await;

    assert_eq!(report.failed.len(), 1, "{report:#?}");
    assert!(report.failed[0].message.contains("the next apply deletes it"), "{report:#?}");
    let new = net_urn(&state.store);
    assert_ne!(new.outputs["id"], old.outputs["id"], "the record is the replacement");
    let pending = state.store.pending_operations().expect("journal");
    assert_eq!(pending.len(), 1, "{pending:#?}");
    assert_eq!(pending[0].kind, PendingKind::DeleteReplaced);
    assert_eq!(pending[0].prior_outputs["id"], old.outputs["id"], "it remembers the old one");
    (state, cloud, moved, new.outputs["id"].clone())
}

#[tokio::test]
async fn a_replaced_resource_whose_delete_failed_is_deleted_by_the_next_apply() {
    let (state, cloud, moved, new_id) =
        replace_the_network_with_its_delete_failing(Fault::Fail).await;
    assert_eq!(cloud.resources().len(), 5, "the old network is still there");
    let plan =
        cairn_engine::plan(&moved, &state.store.snapshot().expect("snapshot")).expect("plan");
    assert_eq!(plan.interrupted.len(), 1, "the plan warns about it");

    let recovered =
        cairn_engine::recover_interrupted(&state.store, cloud.as_ref(), &moved.bindings, 3)
            .await
            .expect("recovery");

    assert_eq!(recovered.replaced_deleted, ["net"]);
    assert_eq!(cloud.resources().len(), 4, "only the replacements are left");
    assert!(cloud.resources().contains_key(new_id.as_str().unwrap_or_default()));
    assert!(state.store.pending_operations().expect("journal").is_empty());
    let (plan, _) = plan_and_apply(&moved, &state.store, &cloud, 10).await;
    assert!(plan.is_empty(), "nothing left to do");
}

#[tokio::test]
async fn an_interrupted_delete_of_a_replaced_resource_keeps_the_replacement() {
    // The old network is deleted in the cloud, then the run stops before recording it.
    let (state, cloud, moved, new_id) =
        replace_the_network_with_its_delete_failing(Fault::FailAfterEffect).await;
    assert_eq!(cloud.resources().len(), 4);

    let recovered =
        cairn_engine::recover_interrupted(&state.store, cloud.as_ref(), &moved.bindings, 3)
            .await
            .expect("recovery");

    assert_eq!(recovered.replaced_deleted, ["net"], "found gone");
    assert!(recovered.removed.is_empty(), "the replacement's record is not forgotten");
    let snapshot = state.store.snapshot().expect("snapshot");
    let net = snapshot.resources.values().find(|record| record.name == "net").expect("net");
    assert_eq!(net.outputs["id"], new_id);
    let (plan, _) = plan_and_apply(&moved, &state.store, &cloud, 10).await;
    assert!(plan.is_empty(), "nothing is created twice");
    assert_eq!(cloud.resources().len(), 4);
}

#[tokio::test]
async fn a_replaced_resource_that_still_cannot_be_deleted_stays_journaled() {
    let (state, cloud, moved, _) = replace_the_network_with_its_delete_failing(Fault::Fail).await;
    cloud.inject("net", Call::Delete, Fault::Fail, 1);

    let recovered =
        cairn_engine::recover_interrupted(&state.store, cloud.as_ref(), &moved.bindings, 3)
            .await
            .expect("recovery goes on");

    assert_eq!(recovered.replaced_kept.len(), 1, "{recovered:#?}");
    assert_eq!(recovered.replaced_kept[0].0, "net");
    assert_eq!(state.store.pending_operations().expect("journal").len(), 1);
    assert_eq!(cloud.resources().len(), 5);
}
