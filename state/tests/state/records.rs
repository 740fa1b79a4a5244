//! Round trips of every record kind, serial and lineage.

use std::collections::BTreeMap;
use std::sync::Arc;

use cairn_state::{ApplyId, OperationKind, PendingKind, SCHEMA_VERSION, StateError, Store};
use serde_json::json;

use crate::common::{TestResult, outputs, pending, populated, record, state_dir, urn};

#[test]
fn a_new_state_is_empty_with_a_lineage() -> TestResult {
    let (_temp, dir) = state_dir();
    let snapshot = Store::open(&dir)?.snapshot()?;
    assert_eq!(snapshot.metadata.schema_version, SCHEMA_VERSION);
    assert_eq!(snapshot.metadata.serial, 0);
    assert_eq!(snapshot.metadata.lineage.len(), 32);
    assert!(snapshot.metadata.lineage.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(snapshot.resources.is_empty() && snapshot.outputs.is_empty());
    assert!(snapshot.bindings.is_empty() && snapshot.pending.is_empty());
    Ok(())
}

#[test]
fn every_record_kind_round_trips_across_reopen() -> TestResult {
    let (_temp, dir) = state_dir();
    let vpc = record("vpc", 1);
    let mut subnet = record("subnet", 1);
    subnet.inputs = json!({"nested": [1, 2.5, "x", null, true, {"k": [{"$secret": "s"}]}]});
    subnet.outputs = json!("a plain string output");
    subnet.dependencies = vec![vpc.urn.clone(), urn("x")];
    let stack_outputs = outputs(&[("PeeringConnectionId", json!("pcx-1")), ("Ids", json!([1, 2]))]);
    let bindings: BTreeMap<_, _> = [
        ("trading".to_owned(), json!({"region": "us-east-1", "role": null})),
        ("analytics".to_owned(), json!({"region": "us-east-2", "external_id": {"$secret": "e"}})),
    ]
    .into();
    let ops = [
        pending("a", PendingKind::Create),
        pending("b", PendingKind::Update),
        pending("c", PendingKind::Delete),
    ];
    let before = {
        let store = Store::open(&dir)?;
        let apply = store.begin_apply(OperationKind::Apply, 1)?;
        store.put_resource(apply, &vpc)?;
        store.put_resource(apply, &subnet)?;
        store.replace_outputs(apply, &stack_outputs)?;
        store.put_bindings(&bindings)?;
        for op in &ops {
            store.journal_begin(op)?;
        }
        store.snapshot()?
    };
    let after = Store::open(&dir)?.snapshot()?;
    assert_eq!(after, before);
    assert_eq!(
        after.resources,
        BTreeMap::from([(vpc.urn.clone(), vpc), (subnet.urn.clone(), subnet)])
    );
    assert_eq!(after.outputs, stack_outputs);
    assert_eq!(after.bindings, bindings);
    assert_eq!(after.pending, ops.to_vec());
    Ok(())
}

#[test]
fn bindings_merge_and_remove() -> TestResult {
    let (_temp, dir) = state_dir();
    let store = Store::open(&dir)?;
    store.put_bindings(&[("a".to_owned(), json!(1)), ("b".to_owned(), json!(2))].into())?;
    store.put_bindings(&[("b".to_owned(), json!(3)), ("c".to_owned(), json!(4))].into())?;
    store.remove_binding("a")?;
    store.remove_binding("never-there")?;
    let expected: BTreeMap<_, _> = [("b".to_owned(), json!(3)), ("c".to_owned(), json!(4))].into();
    assert_eq!(store.snapshot()?.bindings, expected);
    Ok(())
}

#[test]
fn outputs_are_replaced_as_a_whole() -> TestResult {
    let (_temp, dir) = state_dir();
    let store = Store::open(&dir)?;
    let apply = store.begin_apply(OperationKind::Apply, 1)?;
    store.replace_outputs(apply, &outputs(&[("a", json!(1)), ("b", json!(2))]))?;
    store.replace_outputs(apply, &outputs(&[("c", json!(3))]))?;
    assert_eq!(store.snapshot()?.outputs, outputs(&[("c", json!(3))]));
    store.replace_outputs(apply, &BTreeMap::new())?;
    assert!(store.snapshot()?.outputs.is_empty());
    Ok(())
}

#[test]
fn serial_moves_with_resource_changes_only() -> TestResult {
    let (_temp, dir) = state_dir();
    let store = Store::open(&dir)?;
    let serial = || store.metadata().map(|m| m.serial);
    let apply = store.begin_apply(OperationKind::Apply, 1)?;
    assert_eq!(serial()?, 0, "begin_apply is not a change");
    assert_eq!(store.put_resource(apply, &record("a", 1))?, 1, "create");
    assert_eq!(store.put_resource(apply, &record("a", 1))?, 1, "identical put");
    assert_eq!(store.put_resource(apply, &record("a", 2))?, 2, "update");
    assert_eq!(store.remove_resource(apply, &urn("missing"))?, 2, "remove of nothing");
    assert_eq!(store.finish_put(apply, &record("b", 1))?, 3, "finish_put");
    assert_eq!(store.finish_remove(apply, &urn("b"))?, 4, "finish_remove");
    assert_eq!(store.finish_remove(apply, &urn("b"))?, 4, "finish_remove of nothing");
    store.put_bindings(&[("x".to_owned(), json!(1))].into())?;
    store.remove_binding("x")?;
    store.replace_outputs(apply, &outputs(&[("o", json!(1))]))?;
    store.journal_begin(&pending("c", PendingKind::Create))?;
    store.journal_clear(&urn("c"), PendingKind::Create)?;
    store.begin_apply(OperationKind::Refresh, 2)?;
    assert_eq!(serial()?, 4, "bindings, outputs, journal and applies are not resource changes");
    assert_eq!(store.remove_resource(apply, &urn("a"))?, 5, "remove");
    drop(store);
    assert_eq!(Store::open(&dir)?.metadata()?.serial, 5, "serial survives reopen");
    Ok(())
}

#[test]
fn lineage_is_stable_across_reopen_and_unique_per_state() -> TestResult {
    let (_temp, dir) = state_dir();
    let (_other_temp, other_dir) = state_dir();
    let lineage = Store::open(&dir)?.metadata()?.lineage;
    let again = populated(&dir, 3)?.metadata()?.lineage;
    assert_eq!(again, lineage);
    assert_ne!(Store::open(&other_dir)?.metadata()?.lineage, lineage);
    Ok(())
}

#[test]
fn writes_need_a_registered_apply_and_change_nothing_without() -> TestResult {
    let (_temp, dir) = state_dir();
    let store = Store::open(&dir)?;
    let unknown = ApplyId(42);
    let err = store.put_resource(unknown, &record("a", 1)).expect_err("unknown apply");
    assert!(matches!(err, StateError::UnknownApply { id: 42 }), "{err}");
    assert!(err.to_string().contains("begin_apply"), "{err}");
    store.finish_remove(unknown, &urn("a")).expect_err("unknown apply");
    store.replace_outputs(unknown, &outputs(&[("o", json!(1))])).expect_err("unknown apply");
    let snapshot = store.snapshot()?;
    assert_eq!(snapshot.metadata.serial, 0);
    assert!(snapshot.resources.is_empty() && snapshot.outputs.is_empty());
    assert!(store.history()?.is_empty());
    Ok(())
}

#[test]
fn apply_ids_grow_across_reopen() -> TestResult {
    let (_temp, dir) = state_dir();
    let first = Store::open(&dir)?.begin_apply(OperationKind::Apply, 1)?;
    let store = Store::open(&dir)?;
    let second = store.begin_apply(OperationKind::Destroy, 2)?;
    let third = store.begin_apply(OperationKind::Refresh, 3)?;
    assert!(first < second && second < third, "{first:?} {second:?} {third:?}");
    Ok(())
}

#[test]
fn concurrent_writers_lose_nothing() -> TestResult {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Store>();
    let (_temp, dir) = state_dir();
    let store = Arc::new(Store::open(&dir)?);
    let apply = store.begin_apply(OperationKind::Apply, 1)?;
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || -> Result<(), StateError> {
                for i in 0..25 {
                    let record = record(&format!("w{worker}-{i}"), 1);
                    store.journal_begin(&crate::common::pending(
                        &record.name,
                        PendingKind::Create,
                    ))?;
                    store.finish_put(apply, &record)?;
                }
                Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker panicked")?;
    }
    let snapshot = store.snapshot()?;
    assert_eq!(snapshot.metadata.serial, 100);
    assert_eq!(snapshot.resources.len(), 100);
    assert!(snapshot.pending.is_empty());
    assert_eq!(store.history()?[0].previous_resources.len(), 100);
    Ok(())
}
