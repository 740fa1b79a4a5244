//! Property tests over random dependency graphs, applied to the in-memory cloud.

mod common;

use std::sync::Arc;

use cairn_engine::memory::MemoryCloud;
use cairn_engine::{Input, StackSpec};
use common::{NODE, TempState, add, destroy, output, plan_and_apply, stack};
use proptest::prelude::*;

/// A random DAG: node `i` may depend on any earlier node.
fn dags() -> impl Strategy<Value = Vec<Vec<usize>>> {
    (1usize..24).prop_flat_map(|count| {
        let per_node: Vec<_> = (0..count)
            .map(|node| {
                proptest::collection::vec(any::<bool>(), node).prop_map(move |picks| {
                    picks
                        .iter()
                        .enumerate()
                        .filter(|(_, picked)| **picked)
                        .map(|(dep, _)| dep)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        per_node
    })
}

fn name(node: usize) -> String {
    format!("n{node:02}")
}

fn spec_of(dag: &[Vec<usize>]) -> StackSpec {
    let mut spec = stack();
    for (node, dependencies) in dag.iter().enumerate() {
        let after = Input::List(dependencies.iter().map(|&dep| output(&name(dep), "id")).collect());
        add(&mut spec, &name(node), &NODE, &[("after", after)]);
    }
    spec
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn apply_respects_every_edge_replans_to_nothing_and_destroys_everything(dag in dags()) {
        runtime().block_on(async {
            let state = TempState::new();
            let cloud = Arc::new(MemoryCloud::new());
            let spec = spec_of(&dag);

            let (_, report) = plan_and_apply(&spec, &state.store, &cloud, 3).await;
            prop_assert!(report.succeeded());
            let calls = cloud.calls();
            let call = |node: usize| calls.iter().find(|call| call.name == name(node)).cloned();
            for (node, dependencies) in dag.iter().enumerate() {
                let started = call(node).map(|call| call.started);
                for &dep in dependencies {
                    let finished = call(dep).map(|call| call.finished);
                    prop_assert!(finished < started, "{} ran before its dependency {}", name(node), name(dep));
                }
            }

            let again = cairn_engine::plan(&spec, &state.store.snapshot().expect("snapshot")).expect("plan");
            prop_assert!(again.is_empty(), "a second plan changes nothing");

            let report = destroy(&state.store, &cloud).await;
            prop_assert!(report.succeeded());
            prop_assert!(cloud.resources().is_empty(), "destroy leaves the cloud empty");
            Ok(())
        })?;
    }

    #[test]
    fn refresh_then_apply_undoes_any_drift(
        dag in dags(),
        by_hand in proptest::collection::vec(0u8..3, 24),
    ) {
        // by_hand[node]: 0 untouched, 1 its input changed outside cairn, 2 deleted outside.
        runtime().block_on(async {
            let state = TempState::new();
            let cloud = Arc::new(MemoryCloud::new());
            let spec = spec_of(&dag);
            let (_, report) = plan_and_apply(&spec, &state.store, &cloud, 3).await;
            prop_assert!(report.succeeded());
            let snapshot = state.store.snapshot().expect("snapshot");
            let mut touched = 0;
            for record in snapshot.resources.values() {
                let node: usize = record.name[1..].parse().expect("node number");
                let id = record.outputs["id"].as_str().expect("id");
                match by_hand[node] {
                    1 => cloud.change_outside(id, "after", serde_json::json!(["by hand"])),
                    2 => cloud.delete_outside(id),
                    _ => continue,
                }
                touched += 1;
            }

            let found = cairn_engine::detect_drift(&snapshot, cloud.clone(), 4).await.expect("refresh");
            prop_assert_eq!(found.drift.len(), touched);
            prop_assert_eq!(found.in_sync, dag.len() - touched);
            cairn_engine::record_drift(&state.store, &found, 2).expect("recorded");
            let (_, report) = plan_and_apply(&spec, &state.store, &cloud, 3).await;
            prop_assert!(report.succeeded());

            let snapshot = state.store.snapshot().expect("snapshot");
            let again = cairn_engine::detect_drift(&snapshot, cloud.clone(), 4).await.expect("refresh");
            prop_assert!(again.drift.is_empty(), "the apply undid the drift: {:?}", again.drift);
            prop_assert!(cairn_engine::plan(&spec, &snapshot).expect("plan").is_empty());
            prop_assert_eq!(cloud.resources().len(), dag.len());
            Ok(())
        })?;
    }

    #[test]
    fn planning_is_deterministic(dag in dags()) {
        let spec = spec_of(&dag);
        let state = cairn_engine::Snapshot::default();
        let first = serde_json::to_vec(&cairn_engine::plan(&spec, &state).expect("plan")).expect("json");
        let second = serde_json::to_vec(&cairn_engine::plan(&spec, &state).expect("plan")).expect("json");
        prop_assert_eq!(first, second);
    }
}
