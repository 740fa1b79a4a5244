//! Refresh against the in-memory cloud: drift found, shown, recorded, then planned away.

mod common;

use std::sync::Arc;

use cairn_engine::memory::{Call, Fault, MemoryCloud};
use cairn_engine::{Action, DriftKind, Input, RenderOptions, RunKind};
use common::{TempState, actions, lit, network_stack, plan_and_apply};
use serde_json::json;

/// The network stack, with a secret token on its policy, applied to a new cloud.
async fn applied() -> (TempState, Arc<MemoryCloud>, cairn_engine::StackSpec) {
    let state = TempState::new();
    let cloud = Arc::new(MemoryCloud::new());
    let mut spec = network_stack("10.0.0.0/16", "a", [1, 2], json!({"Statement": []}));
    let policy = spec.resources.iter_mut().find(|r| r.name == "policy").expect("policy");
    policy.inputs.insert("token".into(), Input::Secret(Box::new(lit(json!("s3cr3t-token")))));
    let (_, report) = plan_and_apply(&spec, &state.store, &cloud, 10).await;
    assert!(report.succeeded(), "{report:#?}");
    (state, cloud, spec)
}

/// The cloud id of the resource called `name`.
fn id_of(state: &TempState, name: &str) -> String {
    let snapshot = state.store.snapshot().expect("snapshot");
    let record = snapshot.resources.values().find(|r| r.name == name).expect("recorded");
    record.outputs["id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn a_cloud_as_recorded_has_no_drift_and_nothing_is_written() {
    let (state, cloud, _) = applied().await;
    let serial = state.store.metadata().expect("metadata").serial;
    let snapshot = state.store.snapshot().expect("snapshot");

    let report = cairn_engine::detect_drift(&snapshot, cloud.clone(), 10).await.expect("refresh");

    assert!(report.drift.is_empty(), "{report:#?}");
    assert_eq!(report.in_sync, 4);
    assert_eq!(cairn_engine::drift_summary_line(&report), "No drift: 4 in sync.");
    assert_eq!(state.store.metadata().expect("metadata").serial, serial);
}

#[tokio::test]
async fn drift_is_found_shown_recorded_and_then_planned_away() {
    let (state, cloud, spec) = applied().await;
    cloud.change_outside(&id_of(&state, "net"), "label", json!("changed-by-hand"));
    cloud.change_outside(&id_of(&state, "policy"), "token", json!("rotated-by-hand"));
    cloud.delete_outside(&id_of(&state, "subnet-2"));
    let snapshot = state.store.snapshot().expect("snapshot");

    let report = cairn_engine::detect_drift(&snapshot, cloud.clone(), 2).await.expect("refresh");

    let kinds: Vec<(&str, &DriftKind)> =
        report.drift.iter().map(|d| (d.name.as_str(), &d.kind)).collect();
    assert_eq!(kinds.len(), 3, "{kinds:#?}");
    assert_eq!(report.in_sync, 1, "subnet-1 is as recorded");
    let text = cairn_engine::render_drift(&report, RenderOptions::default());
    assert!(text.contains("label = \"a\" -> \"changed-by-hand\""), "{text}");
    assert!(text.contains("token = (sensitive value) -> (sensitive value)"), "{text}");
    assert!(text.contains("\"subnet-2\" in main was deleted"), "{text}");
    assert!(!text.contains("rotated-by-hand") && !text.contains("s3cr3t"), "{text}");
    assert!(text.ends_with("Drift: 2 changed, 1 deleted, 1 in sync.\n"), "{text}");

    cairn_engine::record_drift(&state.store, &report, 5).expect("recorded");

    let after = state.store.snapshot().expect("snapshot");
    let net = after.resources.values().find(|r| r.name == "net").expect("net");
    assert_eq!(net.inputs["label"], json!("changed-by-hand"));
    let policy = after.resources.values().find(|r| r.name == "policy").expect("policy");
    assert_eq!(policy.inputs["token"], json!({"$secret": "rotated-by-hand"}), "still a secret");
    assert!(after.resources.values().all(|r| r.name != "subnet-2"), "forgotten");
    assert_eq!(state.store.history().expect("history")[0].kind, RunKind::Refresh);

    let (plan, report) = plan_and_apply(&spec, &state.store, &cloud, 10).await;
    let planned = actions(&plan);
    assert_eq!(planned["net"], Action::Update);
    assert_eq!(planned["policy"], Action::Update);
    assert_eq!(planned["subnet-2"], Action::Create);
    assert!(report.succeeded(), "{report:#?}");
    let snapshot = state.store.snapshot().expect("snapshot");
    let again = cairn_engine::detect_drift(&snapshot, cloud.clone(), 10).await.expect("refresh");
    assert!(again.drift.is_empty(), "the apply put the cloud back: {again:#?}");
}

#[tokio::test]
async fn a_resource_that_cannot_be_read_is_reported_and_left_as_recorded() {
    let (state, cloud, _) = applied().await;
    cloud.delete_outside(&id_of(&state, "subnet-1"));
    cloud.inject("subnet-1", Call::Read, Fault::Fail, 1);
    let snapshot = state.store.snapshot().expect("snapshot");

    let report = cairn_engine::detect_drift(&snapshot, cloud.clone(), 10).await.expect("refresh");

    assert!(report.drift.is_empty(), "an unreadable resource is not drift: {report:#?}");
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].name, "subnet-1");
    let summary = cairn_engine::drift_summary_line(&report);
    assert_eq!(summary, "No drift: 3 in sync, 1 could not be read.");
    cairn_engine::record_drift(&state.store, &report, 5).expect("recorded");
    let after = state.store.snapshot().expect("snapshot");
    assert!(after.resources.values().any(|r| r.name == "subnet-1"), "kept until it can be read");
}
