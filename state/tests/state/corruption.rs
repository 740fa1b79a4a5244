//! Damaged, newer and undecryptable records are typed errors naming tree and key.

use std::fs;

use cairn_state::{OperationKind, PendingKind, StateError, Store};
use serde_json::json;

use crate::common::{TestResult, pending, populated, record, state_dir, tamper, urn};

#[test]
fn a_flipped_byte_is_a_corrupt_record_naming_the_key() -> TestResult {
    let (_temp, dir) = state_dir();
    drop(populated(&dir, 3)?);
    let key = urn("r1");
    tamper(&dir, "resources", key.as_bytes(), |bytes| {
        let last = bytes.len() - 2;
        bytes[last] ^= 0x01;
    })?;
    let store = Store::open(&dir)?;
    let err = store.snapshot().expect_err("corrupt record");
    assert!(
        matches!(&err, StateError::CorruptRecord { tree: "resources", key: k, reason } if *k == key && reason == "checksum mismatch"),
        "{err:?}"
    );
    let message = err.to_string();
    assert_eq!(
        message,
        format!(
            "state record `{key}` in tree `resources` is corrupt (checksum mismatch): restore the \
             state directory from a backup; nothing was changed"
        )
    );
    let err = store.put_resource(store.begin_apply(OperationKind::Apply, 1)?, &record("r1", 2));
    assert!(
        matches!(err, Err(StateError::CorruptRecord { .. })),
        "a write over it fails too: {err:?}"
    );
    Ok(())
}

#[test]
fn a_value_without_envelope_is_corrupt() -> TestResult {
    let (_temp, dir) = state_dir();
    {
        let store = Store::open(&dir)?;
        store.journal_begin(&pending("a", PendingKind::Create))?;
    }
    tamper(&dir, "journal", urn("a").as_bytes(), |bytes| *bytes = b"{\"urn\": \"a\"}".to_vec())?;
    let err = Store::open(&dir)?.pending_operations().expect_err("corrupt");
    let message = err.to_string();
    assert!(
        message
            .contains(&format!("`{}` in tree `journal` is corrupt (not a cairn record", urn("a"))),
        "{message}"
    );
    Ok(())
}

#[test]
fn a_newer_schema_asks_for_an_upgrade() -> TestResult {
    let (_temp, dir) = state_dir();
    drop(populated(&dir, 1)?);
    let key = urn("r0");
    tamper(&dir, "resources", key.as_bytes(), |bytes| {
        bytes[4..6].copy_from_slice(&9u16.to_be_bytes())
    })?;
    let err = Store::open(&dir)?.snapshot().expect_err("newer");
    assert!(
        matches!(&err, StateError::NewerSchema { tree: "resources", key: k, found: 9, supported: 1 } if *k == key),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .ends_with("(schema 9, this build reads up to 1): upgrade cairn; nothing was changed"),
        "{err}"
    );
    Ok(())
}

#[test]
fn corrupt_metadata_and_history_are_named() -> TestResult {
    let (_temp, dir) = state_dir();
    drop(populated(&dir, 1)?);
    let mut header_key = 1u64.to_be_bytes().to_vec();
    header_key.push(0);
    tamper(&dir, "history", &header_key, |bytes| bytes[12] ^= 0x40)?;
    tamper(&dir, "metadata", b"state", |bytes| bytes.truncate(5))?;
    let store = Store::open(&dir)?;
    let err = store.metadata().expect_err("corrupt metadata").to_string();
    assert!(
        err.starts_with("state record `state` in tree `metadata` is corrupt (5 bytes long"),
        "{err}"
    );
    let err = store.history().expect_err("corrupt history").to_string();
    assert!(
        err.starts_with("state record `apply 1` in tree `history` is corrupt (checksum"),
        "{err}"
    );
    Ok(())
}

#[test]
fn a_missing_key_is_named_and_not_recreated() -> TestResult {
    let (_temp, dir) = state_dir();
    let mut secret = record("s", 1);
    secret.inputs = json!({"password": {"$secret": "pw"}});
    {
        let store = Store::open(&dir)?;
        let apply = store.begin_apply(OperationKind::Apply, 1)?;
        store.put_resource(apply, &secret)?;
    }
    fs::remove_file(dir.join("secrets.key"))?;
    let store = Store::open(&dir)?;
    let err = store.snapshot().expect_err("no key");
    assert!(
        matches!(&err, StateError::SecretsKeyMissing { tree: "resources", key, path } if *key == secret.urn && *path == dir.join("secrets.key")),
        "{err:?}"
    );
    assert!(err.to_string().contains("restore that file from a backup"), "{err}");
    let apply = store.begin_apply(OperationKind::Apply, 2)?;
    let mut other = record("t", 1);
    other.outputs = json!({"$secret": 1});
    let err = store.put_resource(apply, &other).expect_err("cannot seal without a key");
    assert!(matches!(err, StateError::SecretsKeyMissing { .. }), "{err:?}");
    drop(store);
    assert!(!dir.join("secrets.key").exists(), "an existing state never gets a new key");
    Ok(())
}

#[test]
fn a_foreign_key_fails_decryption() -> TestResult {
    let (_temp, dir) = state_dir();
    let (_other_temp, other_dir) = state_dir();
    let mut secret = record("s", 1);
    secret.outputs = json!({"token": {"$secret": "t"}});
    {
        let store = Store::open(&dir)?;
        let apply = store.begin_apply(OperationKind::Apply, 1)?;
        store.put_resource(apply, &secret)?;
    }
    drop(Store::open(&other_dir)?);
    fs::copy(other_dir.join("secrets.key"), dir.join("secrets.key"))?;
    let err = Store::open(&dir)?.snapshot().expect_err("wrong key");
    assert!(
        matches!(&err, StateError::SecretDecrypt { tree: "resources", key, .. } if *key == secret.urn),
        "{err:?}"
    );
    Ok(())
}
