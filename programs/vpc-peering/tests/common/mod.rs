//! Fixtures shared by the command tests.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cairn_cli::{self as cli, Io, ProgramSource, ProviderSource};
use cairn_state::{OperationKind, ResourceRecord, Store};
use serde_json::json;

/// The stack config shipped for the local emulator.
pub fn default_config() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/local.toml")
}

/// Every file under `dir` with its bytes.
pub fn fingerprint(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("readable dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).expect("readable file"));
            }
        }
    }
    files
}

/// A record of a trading VPC called `name`, as an apply of the peering program writes it.
pub fn vpc_record(name: &str) -> ResourceRecord {
    ResourceRecord {
        urn: format!("urn:cairn:vpc-peering::trading::aws:ec2/Vpc::{name}"),
        type_token: "aws:ec2/Vpc".into(),
        name: name.into(),
        binding: "trading".into(),
        inputs: json!({"cidr_block": "10.0.0.0/16"}),
        outputs: json!({"id": "vpc-0123456789abcdef0"}),
        dependencies: Vec::new(),
    }
}

/// Writes `record` into the state in `dir`, as an earlier apply would have; the state is
/// closed again when this returns.
pub fn record_in_state(dir: &Path, record: &ResourceRecord) {
    let store = Store::open(dir).expect("state");
    let apply = store.begin_apply(OperationKind::Apply, 1).expect("apply");
    store.put_resource(apply, record).expect("record");
    store.flush().expect("flush");
}

/// Flips a byte near the end of the stored record `urn` with sled directly, behind cairn's
/// back, and returns once sled has let go of the state again.
pub fn corrupt_record(dir: &Path, urn: &str) {
    {
        let db = sled::open(dir).expect("sled opens the state");
        let tree = db.open_tree("resources").expect("tree");
        let mut bytes = tree.get(urn).expect("get").expect("present").to_vec();
        let last = bytes.len() - 2;
        bytes[last] ^= 0x01;
        tree.insert(urn, bytes).expect("insert");
        db.flush().expect("flush");
    }
    // sled's background threads hold `db`, and its lock, a moment after the handle is gone.
    let db = File::open(dir.join("db")).expect("db");
    let released = (0..5_000).any(|_| {
        db.try_lock().is_ok() || {
            std::thread::sleep(std::time::Duration::from_millis(2));
            false
        }
    });
    assert!(released, "sled let go of the state");
}

/// Runs `command` the way the binaries do (errors printed, exit code returned), answering
/// every confirmation with `confirm`; returns the exit code and what it printed, standard
/// error first.
pub fn run_captured(
    program: &dyn ProgramSource,
    providers: &dyn ProviderSource,
    overrides: Vec<(String, String)>,
    confirm: Option<bool>,
    command: impl FnOnce(&mut Io<'_>) -> anyhow::Result<ExitCode>,
) -> (ExitCode, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut answer = |_: &str| confirm;
    let mut io = Io {
        out: &mut out,
        err: &mut err,
        color: false,
        confirm: &mut answer,
        overrides,
        now_unix: 1,
        program,
        providers,
    };
    let code = cli::run_io(&mut io, command);
    (code, String::from_utf8_lossy(&err).into_owned() + &String::from_utf8_lossy(&out))
}
