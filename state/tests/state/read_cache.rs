//! The read cache: written by the last writer, used by `read_snapshot` only when it matches.

use std::fs;

use cairn_state::{OperationKind, PendingKind, StateError, Store};
use serde_json::json;

use crate::common::{TestResult, fingerprint, outputs, pending, populated, state_dir, tamper, urn};

const CACHE: &str = "read-cache.bin";

/// A state written to and closed, with a secret stack output and a journal entry.
fn written_state(dir: &std::path::Path) -> Result<cairn_state::Snapshot, StateError> {
    let store = populated(dir, 20)?;
    let apply = store.begin_apply(OperationKind::Apply, 2)?;
    store.replace_outputs(apply, &outputs(&[("token", json!({"$secret": "s"}))]))?;
    store.journal_begin(&pending("r4", PendingKind::Update))?;
    store.snapshot()
}

#[test]
fn a_closed_writer_leaves_a_cache_that_reads_the_same_and_changes_nothing() -> TestResult {
    let (_temp, dir) = state_dir();
    let written = written_state(&dir)?;
    assert!(dir.join(CACHE).is_file(), "the last writer wrote the cache");
    let before = fingerprint(&dir);

    let read = Store::read_snapshot(&dir)?;

    assert_eq!(read, written);
    assert_eq!(read.outputs["token"], json!({"$secret": "s"}), "the secret decrypts back");
    assert_eq!(fingerprint(&dir), before, "reading wrote nothing");
    Ok(())
}

#[test]
fn a_writer_removes_the_cache_before_it_can_write() -> TestResult {
    let (_temp, dir) = state_dir();
    written_state(&dir)?;
    let writer = Store::open(&dir)?;
    assert!(!dir.join(CACHE).exists(), "a writer that dies now leaves no stale cache behind");
    let apply = writer.begin_apply(OperationKind::Apply, 3)?;
    writer.remove_resource(apply, &urn("r1"))?;
    drop(writer);
    let read = Store::read_snapshot(&dir)?;
    assert!(!read.resources.contains_key(&urn("r1")));
    assert_eq!(read, Store::open_read_only(&dir)?.snapshot()?);
    Ok(())
}

#[test]
fn a_change_behind_the_caches_back_is_seen() -> TestResult {
    let (_temp, dir) = state_dir();
    written_state(&dir)?;
    let key = urn("r1");
    tamper(&dir, "resources", key.as_bytes(), |bytes| {
        let last = bytes.len() - 2;
        bytes[last] ^= 0x01;
    })?;
    assert!(dir.join(CACHE).is_file(), "sled alone does not touch the cache");

    let err = Store::read_snapshot(&dir).expect_err("the database, not the cache, was read");

    assert!(
        matches!(&err, StateError::CorruptRecord { tree: "resources", key: k, .. } if *k == key),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn a_damaged_or_foreign_cache_is_not_used() -> TestResult {
    let (_temp, dir) = state_dir();
    let written = written_state(&dir)?;
    let cache = fs::read(dir.join(CACHE))?;
    let middle = cache.len() / 2;
    let mut damaged = cache.clone();
    damaged[middle] ^= 0x01;
    let truncated = cache[..middle].to_vec();
    for bad in [damaged, truncated, b"not a cache".to_vec(), Vec::new()] {
        fs::write(dir.join(CACHE), bad)?;
        assert_eq!(Store::read_snapshot(&dir)?, written);
    }
    Ok(())
}

#[test]
fn read_snapshot_is_refused_while_a_writer_holds_the_state() -> TestResult {
    let (_temp, dir) = state_dir();
    written_state(&dir)?;
    let _writer = Store::open(&dir)?;
    let err = Store::read_snapshot(&dir).expect_err("locked");
    assert!(matches!(err, StateError::Locked { .. }), "{err:?}");
    Ok(())
}

#[test]
fn read_snapshot_of_a_missing_state_is_empty_and_creates_nothing() -> TestResult {
    let (_temp, dir) = state_dir();
    let read = Store::read_snapshot(&dir)?;
    assert!(!dir.exists());
    assert_eq!((read.metadata.lineage.as_str(), read.metadata.serial), ("", 0));
    assert_eq!(read, Store::open_read_only(&dir)?.snapshot()?, "the same as the long way");
    Ok(())
}
