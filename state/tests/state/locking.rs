//! The lock: a second open is refused with the holder; a stale record does not block.

use std::fs;

use cairn_state::{StateError, Store};

use crate::common::{TestResult, state_dir};

#[test]
fn a_second_open_is_locked_with_this_pid() -> TestResult {
    let (_temp, dir) = state_dir();
    let holder = Store::open(&dir)?;
    let err = Store::open(&dir).expect_err("second open must fail");
    let message = err.to_string();
    assert!(message.starts_with("state is locked by another process"), "{message}");
    assert!(message.contains(&format!("(pid {} since ", std::process::id())), "{message}");
    assert!(message.contains("wait for it to finish"), "{message}");
    let StateError::Locked { dir: locked_dir, pid, since } = err else {
        panic!("not Locked: {err:?}")
    };
    assert_eq!((locked_dir, pid), (dir.clone(), Some(std::process::id())));
    let since = since.ok_or("since")?;
    assert!(since.len() == 20 && since.ends_with('Z'), "RFC 3339 UTC: {since}");
    drop(holder);
    Store::open(&dir)?;
    Ok(())
}

#[test]
fn a_refused_open_does_not_touch_the_lock_record() -> TestResult {
    let (_temp, dir) = state_dir();
    let _holder = Store::open(&dir)?;
    let record = r#"{"pid": 4242, "started_at_unix": 0}"#;
    fs::write(dir.join("lock.json"), record)?;
    let err = Store::open(&dir).expect_err("locked").to_string();
    assert!(err.contains("(pid 4242 since 1970-01-01T00:00:00Z)"), "{err}");
    assert_eq!(fs::read_to_string(dir.join("lock.json"))?, record);
    Ok(())
}

#[test]
fn the_record_lives_as_long_as_the_last_clone() -> TestResult {
    let (_temp, dir) = state_dir();
    let store = Store::open(&dir)?;
    let record: serde_json::Value = serde_json::from_slice(&fs::read(dir.join("lock.json"))?)?;
    assert_eq!(record["pid"], std::process::id());
    assert!(record["started_at_unix"].as_u64().ok_or("started_at_unix")? > 1_600_000_000);
    let clone = store.clone();
    drop(store);
    assert!(dir.join("lock.json").exists(), "a clone still holds the state");
    assert!(Store::open(&dir).is_err());
    drop(clone);
    assert!(!dir.join("lock.json").exists());
    Ok(())
}

#[test]
fn a_stale_record_from_a_crashed_process_does_not_block() -> TestResult {
    let (_temp, dir) = state_dir();
    drop(Store::open(&dir)?);
    fs::write(
        dir.join("lock.json"),
        r#"{"pid": 999999, "started_at_unix": 1, "hostname": "gone"}"#,
    )?;
    let store = Store::open(&dir)?;
    let record: serde_json::Value = serde_json::from_slice(&fs::read(dir.join("lock.json"))?)?;
    assert_eq!(record["pid"], std::process::id(), "the stale record is overwritten");
    drop(store);
    assert!(!dir.join("lock.json").exists());
    Ok(())
}

#[test]
fn dropping_the_store_releases_the_lock_at_once() -> TestResult {
    let (_temp, dir) = state_dir();
    for version in 0..40 {
        let store = Store::open(&dir)?;
        let apply = store.begin_apply(cairn_state::OperationKind::Apply, version)?;
        store.put_resource(apply, &crate::common::record("a", version))?;
        drop(store); // sled's background writes still hold `db` for a moment here
    }
    assert_eq!(Store::open_read_only(&dir)?.metadata()?.serial, 40);
    Ok(())
}

#[test]
fn a_held_session_lock_keeps_out_writers_and_readers() -> TestResult {
    let (_temp, dir) = state_dir();
    drop(Store::open(&dir)?);
    // What a writer holds from its open until its read cache is written, after sled closed.
    let session = fs::OpenOptions::new().write(true).open(dir.join("session.lock"))?;
    session.try_lock()?;

    let writer = Store::open(&dir).expect_err("a writer is kept out");
    let reader = Store::read_snapshot(&dir).expect_err("a reader is kept out");

    assert!(matches!(writer, StateError::Locked { .. }), "{writer:?}");
    assert!(matches!(reader, StateError::Locked { .. }), "{reader:?}");
    drop(session);
    Store::read_snapshot(&dir)?;
    drop(Store::open(&dir)?);
    Ok(())
}
