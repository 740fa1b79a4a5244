//! Fixtures shared by the tests.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use cairn_state::{OperationKind, PendingKind, PendingOperation, ResourceRecord, Store};
use serde_json::{Value, json};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A fresh state directory (inside a temp dir, so that `open` must create it).
pub fn state_dir() -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("state");
    (temp, dir)
}

pub fn urn(name: &str) -> String {
    format!("urn:cairn:test::main::aws:ec2/Vpc::{name}")
}

/// A record of resource `name`; `version` changes its inputs and outputs.
pub fn record(name: &str, version: u64) -> ResourceRecord {
    ResourceRecord {
        urn: urn(name),
        type_token: "aws:ec2/Vpc".to_owned(),
        name: name.to_owned(),
        binding: "trading".to_owned(),
        inputs: json!({"cidrBlock": "10.0.0.0/16", "version": version, "tags": {"Env": "test"}}),
        outputs: json!({"id": format!("vpc-{name}-{version}"), "arn": null}),
        dependencies: vec![urn("other")],
    }
}

pub fn pending(name: &str, kind: PendingKind) -> PendingOperation {
    PendingOperation {
        urn: urn(name),
        type_token: "aws:ec2/Vpc".to_owned(),
        name: name.to_owned(),
        binding: "trading".to_owned(),
        kind,
        inputs: json!({"cidrBlock": "10.0.0.0/16"}),
        prior_outputs: Value::Null,
        started_at_unix: 1_700_000_100,
        dependencies: Vec::new(),
    }
}

pub fn outputs(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

/// Opens a store in `dir` and writes `count` resources in one apply.
pub fn populated(dir: &Path, count: u64) -> Result<Store, cairn_state::StateError> {
    let store = Store::open(dir)?;
    let apply = store.begin_apply(OperationKind::Apply, 1_700_000_000)?;
    for i in 0..count {
        store.put_resource(apply, &record(&format!("r{i}"), 1))?;
    }
    store.flush()?;
    Ok(store)
}

/// Every file and directory under `dir`: relative path -> (contents, modification time, mode).
pub type Fingerprint = BTreeMap<PathBuf, (Vec<u8>, SystemTime, u32)>;

pub fn fingerprint(dir: &Path) -> Fingerprint {
    let mut out = BTreeMap::new();
    collect(dir, dir, &mut out);
    out
}

fn collect(root: &Path, dir: &Path, out: &mut Fingerprint) {
    for entry in fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("dir entry").path();
        let meta = fs::metadata(&path).expect("stat");
        let modified = meta.modified().expect("mtime");
        let mode = mode(&meta);
        let relative = path.strip_prefix(root).expect("under root").to_owned();
        if meta.is_dir() {
            out.insert(relative, (Vec::new(), modified, mode));
            collect(root, &path, out);
        } else {
            out.insert(relative, (fs::read(&path).expect("read file"), modified, mode));
        }
    }
}

#[cfg(unix)]
fn mode(meta: &fs::Metadata) -> u32 {
    std::os::unix::fs::PermissionsExt::mode(&meta.permissions())
}

#[cfg(not(unix))]
fn mode(_meta: &fs::Metadata) -> u32 {
    0
}

/// Whether `needle` occurs in any file under `dir`, and in which.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    fingerprint(dir)
        .into_iter()
        .filter(|(_, (bytes, _, _))| bytes.windows(needle.len()).any(|w| w == needle))
        .map(|(path, _)| path)
        .collect()
}

/// Rewrites the value under `key` in `tree` with sled directly (the store must be closed).
pub fn tamper(dir: &Path, tree: &str, key: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> TestResult {
    {
        let db = sled::open(dir)?;
        let tree = db.open_tree(tree)?;
        let mut bytes = tree.get(key)?.ok_or("no such key")?.to_vec();
        edit(&mut bytes);
        tree.insert(key, bytes)?;
        db.flush()?;
    }
    // sled's background threads keep `db` locked for a moment after the handle is gone.
    let db = fs::File::open(dir.join("db"))?;
    if !eventually(5_000, Duration::from_millis(2), || db.try_lock().is_ok()) {
        return Err("sled did not release its lock".into());
    }
    Ok(())
}

/// Whether `condition` holds within `attempts` tries, `interval` apart.
pub fn eventually(
    attempts: usize,
    interval: Duration,
    mut condition: impl FnMut() -> bool,
) -> bool {
    (0..attempts).any(|_| {
        condition() || {
            std::thread::sleep(interval);
            false
        }
    })
}
