//! Other processes: a real crash, and a real second process holding the lock.
//!
//! The test binary re-runs itself as the child, selecting [`child_process`] and telling it what
//! to do through an environment variable; in a normal run that test does nothing.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cairn_state::{OperationKind, PendingKind, StateError, Store};

use crate::common::{TestResult, eventually, pending, record, state_dir};

const CHILD_ENV: &str = "CAIRN_STATE_TEST_CHILD";

/// The child's side. `crash:<dir>` journals a call and aborts the process mid-apply;
/// `hold:<dir>` opens the state and holds it until its stdin closes.
#[test]
fn child_process() -> TestResult {
    let Ok(task) = std::env::var(CHILD_ENV) else { return Ok(()) };
    let (mode, dir) = task.split_once(':').ok_or("bad child task")?;
    let store = Store::open(Path::new(dir))?;
    match mode {
        "crash" => {
            let apply = store.begin_apply(OperationKind::Apply, 1)?;
            store.finish_put(apply, &record("done", 1))?;
            store.journal_begin(&pending("interrupted", PendingKind::Create))?;
            std::process::abort();
        }
        _ => {
            std::io::stdin().read_line(&mut String::new())?;
            Ok(())
        }
    }
}

fn spawn_child(mode: &str, dir: &Path) -> std::io::Result<Child> {
    Command::new(std::env::current_exe()?)
        .args(["crash::child_process", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, format!("{mode}:{}", dir.display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

/// Waits until `dir/lock.json` names `pid`, which the store writes right after taking the lock.
fn wait_for_lock_record(dir: &Path, pid: u32) -> bool {
    eventually(3_000, Duration::from_millis(20), || {
        let record = std::fs::read(dir.join("lock.json")).ok();
        let holder =
            record.and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
        holder.is_some_and(|record| record["pid"] == pid)
    })
}

#[test]
fn after_a_crash_the_journal_survives_and_the_stale_lock_does_not_block() -> TestResult {
    let (_temp, dir) = state_dir();
    let status = spawn_child("crash", &dir)?.wait()?;
    assert!(!status.success(), "the child aborts");
    let stale: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("lock.json"))?)?;
    assert_ne!(stale["pid"], std::process::id(), "the crashed child left its lock record");

    let store = Store::open(&dir)?;
    assert_eq!(store.pending_operations()?, vec![pending("interrupted", PendingKind::Create)]);
    let snapshot = store.snapshot()?;
    assert_eq!(snapshot.metadata.serial, 1);
    assert_eq!(snapshot.resources.into_values().collect::<Vec<_>>(), vec![record("done", 1)]);
    let record: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("lock.json"))?)?;
    assert_eq!(record["pid"], std::process::id(), "the stale record was overwritten");
    Ok(())
}

#[test]
fn another_process_holding_the_state_is_named() -> TestResult {
    let (_temp, dir) = state_dir();
    let mut child = spawn_child("hold", &dir)?;
    if !wait_for_lock_record(&dir, child.id()) {
        child.kill()?;
        child.wait()?;
        return Err("the child did not open the state within 60 s".into());
    }

    let result = Store::open(&dir);
    let read_only = Store::open_read_only(&dir);
    drop(child.stdin.take());
    child.wait()?;

    let err = result.expect_err("locked by the child");
    assert!(
        matches!(err, StateError::Locked { pid: Some(pid), .. } if pid == child.id()),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("state is locked by another process (pid {} since ", child.id()))
    );
    assert!(matches!(read_only, Err(StateError::Locked { .. })), "{read_only:?}");
    Store::open(&dir)?;
    Ok(())
}
