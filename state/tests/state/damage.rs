//! A database deleted, truncated or rolled back to an older copy is refused as damaged,
//! never read as an empty or older state, and refusing it changes nothing.

use std::fs;
use std::path::Path;

use cairn_state::{OperationKind, StateError, Store};

use crate::common::{Fingerprint, TestResult, fingerprint, populated, record, state_dir};

/// cairn's own files in the state directory; everything else is sled's database.
const CAIRN_FILES: [&str; 5] =
    ["secrets.key", "lock.json", "session.lock", "manifest.json", "read-cache.bin"];

fn database_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let entries = fs::read_dir(dir).expect("state dir").map(|entry| entry.expect("entry"));
    let names = entries.filter(|entry| !CAIRN_FILES.iter().any(|own| entry.file_name() == *own));
    names.map(|entry| entry.path()).collect()
}

fn delete_database(dir: &Path) {
    for path in database_files(dir) {
        if path.is_dir() { fs::remove_dir_all(path) } else { fs::remove_file(path) }
            .expect("database file removed");
    }
}

/// Reading and opening both refuse the state as damaged, and reading changes nothing.
fn assert_refused_as_damaged(dir: &Path, expected_serial: u64) {
    let before: Fingerprint = fingerprint(dir);
    let read = Store::read_snapshot(dir).expect_err("damage is not an empty state");
    assert_eq!(fingerprint(dir), before, "refusing to read changes nothing");
    let opened = Store::open(dir).expect_err("nor is it opened as one");
    for error in [read, opened] {
        assert!(matches!(error, StateError::Damaged { .. }), "{error}");
        let message = error.to_string();
        assert!(message.contains(&format!("says serial {expected_serial}")), "{message}");
        assert!(message.contains("Restore the state directory from a backup"), "{message}");
    }
    assert!(Store::read_snapshot(dir).is_err(), "still refused: opening made no new state");
}

#[test]
fn a_deleted_database_is_damage_not_a_new_state() -> TestResult {
    let (_temp, dir) = state_dir();
    let serial = populated(&dir, 3)?.metadata()?.serial;
    delete_database(&dir);

    assert_refused_as_damaged(&dir, serial);
    Ok(())
}

#[test]
fn a_database_truncated_to_nothing_is_damage_not_a_new_state() -> TestResult {
    let (_temp, dir) = state_dir();
    let serial = populated(&dir, 200)?.metadata()?.serial;
    for path in database_files(&dir).into_iter().filter(|path| path.is_file()) {
        fs::OpenOptions::new().write(true).open(&path)?.set_len(0)?;
    }

    assert_refused_as_damaged(&dir, serial);
    Ok(())
}

#[test]
fn a_database_truncated_by_half_is_refused() -> TestResult {
    let (_temp, dir) = state_dir();
    let serial = populated(&dir, 200)?.metadata()?.serial;
    for path in database_files(&dir).into_iter().filter(|path| path.is_file()) {
        let length = fs::metadata(&path)?.len();
        fs::OpenOptions::new().write(true).open(&path)?.set_len(length / 2)?;
    }

    match Store::read_snapshot(&dir) {
        Err(StateError::Damaged { expected_serial, .. }) => assert_eq!(expected_serial, serial),
        Err(StateError::Database { .. } | StateError::CorruptRecord { .. }) => {}
        other => panic!("a truncated database must be refused: {other:?}"),
    }
    Ok(())
}

#[test]
fn a_database_rolled_back_to_an_older_copy_is_refused() -> TestResult {
    let (temp, dir) = state_dir();
    drop(populated(&dir, 2)?);
    let backup = temp.path().join("backup");
    fs::create_dir(&backup)?;
    for path in database_files(&dir) {
        if path.is_file() {
            fs::copy(&path, backup.join(path.file_name().ok_or("name")?))?;
        }
    }
    let serial = {
        let store = Store::open(&dir)?;
        let apply = store.begin_apply(OperationKind::Apply, 2)?;
        store.put_resource(apply, &record("later", 1))?;
        store.flush()?;
        store.metadata()?.serial
    };
    delete_database(&dir);
    for entry in fs::read_dir(&backup)? {
        let entry = entry?;
        fs::copy(entry.path(), dir.join(entry.file_name()))?;
    }

    assert_refused_as_damaged(&dir, serial);
    Ok(())
}

#[test]
fn the_manifest_remembers_the_serial_a_run_leaves_and_an_intact_state_reads_as_it_is() -> TestResult
{
    let (_temp, dir) = state_dir();
    let manifest = |dir: &Path| -> serde_json::Value {
        serde_json::from_slice(&fs::read(dir.join("manifest.json")).expect("manifest"))
            .expect("JSON")
    };
    let store = populated(&dir, 1)?;
    assert_eq!(manifest(&dir)["serial"], 0, "a new state has its manifest from the first flush");
    let metadata = store.metadata()?;
    drop(store);
    assert_eq!(manifest(&dir)["serial"], metadata.serial, "the run's last serial, as it closed");
    assert_eq!(manifest(&dir)["lineage"], metadata.lineage.as_str());
    assert_eq!(Store::read_snapshot(&dir)?.resources.len(), 1, "an intact state reads as it is");
    Ok(())
}
