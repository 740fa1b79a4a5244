//! History: the last applies and the versions they replaced.

use cairn_state::{HISTORY_LIMIT, OperationKind, Store};
use serde_json::json;

use crate::common::{TestResult, outputs, record, state_dir, urn};

#[test]
fn history_holds_previous_versions_with_none_for_creates() -> TestResult {
    let (_temp, dir) = state_dir();
    let store = Store::open(&dir)?;
    let first = store.begin_apply(OperationKind::Apply, 100)?;
    store.put_resource(first, &record("a", 1))?;
    store.put_resource(first, &record("a", 2))?; // second touch: history keeps the first previous
    store.finish_put(first, &record("b", 1))?;
    store.replace_outputs(first, &outputs(&[("o", json!(1))]))?;
    let second = store.begin_apply(OperationKind::Destroy, 200)?;
    store.remove_resource(second, &urn("a"))?;
    store.finish_put(second, &record("b", 1))?; // identical: not a change, not in history
    store.replace_outputs(second, &outputs(&[("o", json!(2))]))?;
    store.replace_outputs(second, &outputs(&[("o", json!(3))]))?;
    let third = store.begin_apply(OperationKind::Refresh, 300)?;

    let history = store.history()?;
    let ids: Vec<_> = history.iter().map(|h| h.id).collect();
    assert_eq!(ids, vec![third, second, first], "newest first");
    let [third_changes, second_changes, first_changes] = &history[..] else { panic!("3 applies") };
    assert_eq!((third_changes.kind, third_changes.started_at_unix), (OperationKind::Refresh, 300));
    assert!(
        third_changes.previous_resources.is_empty() && third_changes.previous_outputs.is_none()
    );

    assert_eq!((first_changes.kind, first_changes.started_at_unix), (OperationKind::Apply, 100));
    assert_eq!(first_changes.previous_resources.len(), 2);
    assert_eq!(first_changes.previous_resources[&urn("a")], None);
    assert_eq!(first_changes.previous_resources[&urn("b")], None);
    assert_eq!(first_changes.previous_outputs, Some(outputs(&[])));

    assert_eq!(second_changes.kind, OperationKind::Destroy);
    assert_eq!(
        second_changes.previous_resources.len(),
        1,
        "{:?}",
        second_changes.previous_resources
    );
    assert_eq!(second_changes.previous_resources[&urn("a")], Some(record("a", 2)));
    assert_eq!(second_changes.previous_outputs, Some(outputs(&[("o", json!(1))])));
    Ok(())
}

#[test]
fn history_keeps_exactly_the_last_applies() -> TestResult {
    let (_temp, dir) = state_dir();
    let store = Store::open(&dir)?;
    let total = HISTORY_LIMIT + 5;
    for version in 1..=total {
        let apply = store.begin_apply(OperationKind::Apply, version)?;
        store.finish_put(apply, &record("a", version))?;
        store.finish_put(apply, &record(&format!("only-{version}"), 1))?;
    }
    drop(store);
    let history = Store::open(&dir)?.history()?;
    assert_eq!(history.len() as u64, HISTORY_LIMIT);
    for (changes, version) in history.iter().zip((1..=total).rev()) {
        assert_eq!(changes.started_at_unix, version);
        assert_eq!(changes.previous_resources.len(), 2);
        assert_eq!(changes.previous_resources[&urn("a")], Some(record("a", version - 1)));
        assert_eq!(changes.previous_resources[&urn(&format!("only-{version}"))], None);
    }
    Ok(())
}
