//! The pending-operation journal across a simulated crash.

use cairn_state::{Finished, OperationKind, PendingKind, Store};

use crate::common::{TestResult, pending, record, state_dir, urn};

#[test]
fn a_call_interrupted_before_finish_is_pending_after_reopen() -> TestResult {
    let (_temp, dir) = state_dir();
    let create = pending("vpc", PendingKind::Create);
    let delete = pending("old", PendingKind::Delete);
    {
        let store = Store::open(&dir)?;
        store.begin_apply(OperationKind::Apply, 1)?;
        store.journal_begin(&create)?;
        store.journal_begin(&delete)?;
        // The process dies here: no finish, no clear.
    }
    let store = Store::open(&dir)?;
    // Ordered by URN.
    assert_eq!(store.pending_operations()?, vec![delete.clone(), create.clone()]);
    assert_eq!(store.snapshot()?.pending, vec![delete, create]);
    assert!(store.snapshot()?.resources.is_empty());

    let apply = store.begin_apply(OperationKind::Apply, 2)?;
    assert_eq!(store.finish_put(apply, &record("vpc", 1))?, 1);
    store.journal_clear(&urn("old"), PendingKind::Delete)?;
    drop(store);
    let store = Store::open(&dir)?;
    assert!(store.pending_operations()?.is_empty());
    assert_eq!(store.snapshot()?.resources.len(), 1);
    Ok(())
}

#[test]
fn finish_clears_only_its_own_entry_and_begin_replaces() -> TestResult {
    let (_temp, dir) = state_dir();
    let store = Store::open(&dir)?;
    let apply = store.begin_apply(OperationKind::Apply, 1)?;
    store.journal_begin(&pending("a", PendingKind::Create))?;
    let update = pending("a", PendingKind::Update);
    store.journal_begin(&update)?;
    let other = pending("b", PendingKind::Create);
    store.journal_begin(&other)?;
    assert_eq!(store.pending_operations()?, vec![update, other.clone()]);
    store.finish_put(apply, &record("a", 1))?;
    assert_eq!(store.pending_operations()?, vec![other]);
    store.finish_remove(apply, &urn("b"))?;
    assert!(store.pending_operations()?.is_empty());
    store.journal_begin(&pending("a", PendingKind::Update))?;
    assert_eq!(store.finish_put(apply, &record("a", 1))?, 1, "identical: no change");
    assert!(store.pending_operations()?.is_empty(), "but the entry is cleared");
    Ok(())
}

#[test]
fn a_failed_finish_keeps_the_journal_entry() -> TestResult {
    let (_temp, dir) = state_dir();
    let store = Store::open(&dir)?;
    let op = pending("a", PendingKind::Create);
    store.journal_begin(&op)?;
    store.finish_put(cairn_state::ApplyId(7), &record("a", 1)).expect_err("unknown apply");
    assert_eq!(store.pending_operations()?, vec![op]);
    Ok(())
}

#[test]
fn finish_all_records_a_batch_in_one_step_and_clears_its_journal() -> TestResult {
    let (_temp, dir) = state_dir();
    let store = Store::open(&dir)?;
    let apply = store.begin_apply(OperationKind::Apply, 1)?;
    store.put_resource(apply, &record("old", 1))?;
    let (a, b) = (record("a", 1), record("b", 1));
    let ops = [
        pending("a", PendingKind::Create),
        pending("b", PendingKind::Create),
        pending("old", PendingKind::Delete),
    ];
    store.journal_begin_all(&ops)?;
    assert_eq!(store.pending_operations()?.len(), 3);

    let old = urn("old");
    let serial =
        store.finish_all(apply, &[Finished::Put(&a), Finished::Put(&b), Finished::Remove(&old)])?;

    assert_eq!(serial, 4, "one bump for the first put, three for the batch");
    let snapshot = store.snapshot()?;
    assert_eq!(
        snapshot.resources.keys().cloned().collect::<Vec<_>>(),
        [a.urn.clone(), b.urn.clone()]
    );
    assert!(store.pending_operations()?.is_empty());
    let history = store.history()?;
    assert_eq!(history[0].previous_resources.len(), 3, "each change keeps its previous version");
    Ok(())
}

#[test]
fn a_replacement_journals_the_delete_of_what_it_replaced_in_its_own_place() -> TestResult {
    let (_temp, dir) = state_dir();
    let store = Store::open(&dir)?;
    let apply = store.begin_apply(OperationKind::Apply, 1)?;
    let old = record("sg", 1);
    store.put_resource(apply, &old)?;
    store.journal_begin(&pending("sg", PendingKind::Create))?;
    let mut replaced = pending("sg", PendingKind::DeleteReplaced);
    replaced.prior_outputs = old.outputs.clone();
    let new = record("sg", 2);

    store.finish_all(apply, &[Finished::Replaced { record: &new, replaced: &replaced }])?;

    assert_eq!(store.snapshot()?.resources[&new.urn], new);
    assert_eq!(store.pending_operations()?, vec![replaced.clone()], "the create's entry is gone");
    // Later operations on the replacement neither overwrite nor clear it.
    let update = pending("sg", PendingKind::Update);
    store.journal_begin(&update)?;
    assert_eq!(store.pending_operations()?, vec![update, replaced.clone()]);
    store.finish_put(apply, &record("sg", 3))?;
    assert_eq!(store.pending_operations()?, vec![replaced]);
    store.journal_clear(&urn("sg"), PendingKind::DeleteReplaced)?;
    assert!(store.pending_operations()?.is_empty());
    Ok(())
}

#[test]
fn record_all_writes_in_one_step_and_leaves_the_journal_alone() -> TestResult {
    let (_temp, dir) = state_dir();
    let store = Store::open(&dir)?;
    let apply = store.begin_apply(OperationKind::Refresh, 1)?;
    store.put_resource(apply, &record("gone", 1))?;
    let op = pending("kept", PendingKind::Update);
    store.journal_begin(&op)?;
    let (kept, gone) = (record("kept", 2), urn("gone"));

    let serial = store.record_all(apply, &[Finished::Put(&kept), Finished::Remove(&gone)])?;

    assert_eq!(serial, 3);
    let snapshot = store.snapshot()?;
    assert_eq!(
        snapshot.resources.keys().cloned().collect::<Vec<_>>(),
        std::slice::from_ref(&kept.urn)
    );
    assert_eq!(store.pending_operations()?, vec![op], "the journal is untouched");
    Ok(())
}
