//! Secrets never reach the disk in plain text.

use cairn_state::{OperationKind, PendingKind, Store};
use serde_json::json;

use crate::common::{TestResult, files_containing, outputs, pending, record, state_dir};

const CANARY: &str = "plaintext-canary-7d1f3b";
const VISIBLE: &str = "visible-marker-93ac21";

#[test]
fn secrets_are_encrypted_on_disk_and_decrypt_back_equal() -> TestResult {
    let (_temp, dir) = state_dir();
    let mut resource = record("db", 1);
    resource.inputs = json!({"marker": VISIBLE, "password": {"$secret": CANARY}});
    resource.outputs = json!({"connection": {"$secret": {"user": "admin", "pw": CANARY}}});
    let mut updated = resource.clone();
    updated.inputs["version"] = json!(2);
    let mut op = pending("db", PendingKind::Update);
    op.inputs = json!({"password": {"$secret": CANARY}});
    op.prior_outputs = json!([{"$secret": CANARY}]);
    let stack_outputs = outputs(&[("DbPassword", json!({"$secret": CANARY}))]);
    let bindings = [("b".to_owned(), json!({"external_id": {"$secret": CANARY}}))].into();

    let store = Store::open(&dir)?;
    let apply = store.begin_apply(OperationKind::Apply, 1)?;
    store.put_resource(apply, &resource)?;
    let next = store.begin_apply(OperationKind::Apply, 2)?;
    store.journal_begin(&op)?;
    store.finish_put(next, &updated)?; // the first version, secret included, goes to history
    store.journal_begin(&op)?;
    store.replace_outputs(next, &stack_outputs)?;
    store.put_bindings(&bindings)?;
    store.flush()?;

    assert!(!files_containing(&dir, VISIBLE.as_bytes()).is_empty(), "the search must see records");
    assert_eq!(files_containing(&dir, CANARY.as_bytes()), Vec::<std::path::PathBuf>::new());

    let snapshot = store.snapshot()?;
    assert_eq!(snapshot.resources[&resource.urn], updated);
    assert_eq!(snapshot.pending, vec![op]);
    assert_eq!(snapshot.outputs, stack_outputs);
    assert_eq!(snapshot.bindings, bindings);
    assert_eq!(store.history()?[0].previous_resources[&resource.urn], Some(resource));
    drop(store);
    assert_eq!(files_containing(&dir, CANARY.as_bytes()), Vec::<std::path::PathBuf>::new());
    Ok(())
}
