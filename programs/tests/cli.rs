//! The binaries on bad input: a clear error, a non-zero exit, and the state as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cairn_state::{OperationKind, ResourceRecord, Store};
use serde_json::json;

/// Every file under `dir` with its bytes.
fn fingerprint(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
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

fn config() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config/local.toml")
}

/// Runs binary `name` with `args` against the state in `state`, with no AWS endpoint
/// reachable (port 9 on loopback discards).
fn run(name: &str, state: &Path, args: &[&str]) -> Output {
    run_with_config(name, state, &config(), args)
}

fn run_with_config(name: &str, state: &Path, config: &Path, args: &[&str]) -> Output {
    let binary = match name {
        "plan" => env!("CARGO_BIN_EXE_plan"),
        "apply" => env!("CARGO_BIN_EXE_apply"),
        "destroy" => env!("CARGO_BIN_EXE_destroy"),
        _ => env!("CARGO_BIN_EXE_graph"),
    };
    Command::new(binary)
        .args(["--state", &state.display().to_string(), "--config", &config.display().to_string()])
        .args(args)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn plan_shows_the_program_and_writes_nothing() {
    let temp = tempfile::tempdir().expect("temp dir");
    let state = temp.path().join("state");
    let output = run("plan", &state, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("+ aws:ec2/VpcPeeringConnection \"trading-analytics-peering\""),
        "{text}"
    );
    assert!(text.contains("to add, 0 to change, 0 to destroy."), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour with NO_COLOR or a pipe");
    assert!(!state.exists(), "plan creates no state");

    let detailed = run("plan", &state, &["--detailed-exitcode"]);
    assert_eq!(detailed.status.code(), Some(2), "changes present");
}

#[test]
fn a_locked_state_is_refused_with_the_holder_and_left_alone() {
    let temp = tempfile::tempdir().expect("temp dir");
    let state = temp.path().join("state");
    let holder = Store::open(&state).expect("first opener");
    let before = fingerprint(&state);

    for (name, args) in [("plan", &[][..]), ("apply", &["--yes"][..]), ("destroy", &["--yes"][..])]
    {
        let output = run(name, &state, args);
        assert_eq!(output.status.code(), Some(1), "{name}");
        let message = stderr(&output);
        let expected = format!("state is locked by another process (pid {}", std::process::id());
        assert!(message.contains(&expected), "{name}: {message}");
    }
    assert_eq!(fingerprint(&state), before, "nothing was written");
    drop(holder);
}

fn record(name: &str) -> ResourceRecord {
    ResourceRecord {
        urn: format!("urn:cairn:vpc-peering::trading::aws:ec2/Vpc::{name}"),
        type_token: "aws:ec2/Vpc".into(),
        name: name.into(),
        binding: "trading".into(),
        inputs: json!({"cidr_block": "10.0.0.0/16"}),
        outputs: json!({"id": "vpc-0123"}),
        dependencies: Vec::new(),
    }
}

/// A state holding one record, then that record's last byte flipped with sled directly.
fn corrupt_state(state: &Path) -> String {
    let vpc = record("trading-vpc");
    {
        let store = Store::open(state).expect("open");
        let apply = store.begin_apply(OperationKind::Apply, 1).expect("apply");
        store.put_resource(apply, &vpc).expect("put");
        store.flush().expect("flush");
    }
    // Reopening right after the drop can race sled's background threads; retry briefly.
    let db = (0..500)
        .find_map(|_| {
            sled::open(state).ok().or_else(|| {
                std::thread::sleep(std::time::Duration::from_millis(10));
                None
            })
        })
        .expect("sled opens the state");
    let tree = db.open_tree("resources").expect("tree");
    let mut bytes = tree.get(vpc.urn.as_bytes()).expect("get").expect("present").to_vec();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x01;
    tree.insert(vpc.urn.as_bytes(), bytes).expect("insert");
    db.flush().expect("flush");
    drop(tree);
    drop(db);
    let_sled_threads_release_the_state();
    vpc.urn
}

/// sled's background flusher holds the directory lock briefly after the last handle drops;
/// a child process opening the state at once could see it as locked.
fn let_sled_threads_release_the_state() {
    std::thread::sleep(std::time::Duration::from_millis(200));
}

#[test]
fn a_corrupt_record_is_named_and_nothing_is_changed() {
    let temp = tempfile::tempdir().expect("temp dir");
    let state = temp.path().join("state");
    let key = corrupt_state(&state);
    let before = fingerprint(&state);

    for (name, args) in [("plan", &[][..]), ("apply", &["--yes"][..]), ("graph", &[][..])] {
        let output = run(name, &state, args);
        assert_eq!(output.status.code(), Some(1), "{name}");
        let message = stderr(&output);
        assert!(
            message.contains(&format!("state record `{key}` in tree `resources` is corrupt")),
            "{name}: {message}"
        );
        assert!(message.contains("restore the state directory from a backup"), "{message}");
    }
    assert_eq!(fingerprint(&state), before, "nothing was written");
}

fn write_config(dir: &Path, edit: impl FnOnce(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(config()).expect("default config");
    let path = dir.join("stack.toml");
    std::fs::write(&path, edit(text)).expect("write config");
    path
}

/// A change to the default config's text.
type ConfigEdit = fn(String) -> String;

#[test]
fn a_bad_config_names_the_file_and_the_key() {
    let temp = tempfile::tempdir().expect("temp dir");
    let state = temp.path().join("state");
    let cases: [(&str, ConfigEdit, &str); 4] = [
        (
            "unknown key",
            |text| text.replace("[tags]", "colour = \"red\"\n[tags]"),
            "unknown field `colour`",
        ),
        (
            "wrong type",
            |text| text.replacen("region = \"us-east-1\"", "region = 1", 1),
            "invalid type: integer `1`, expected a string",
        ),
        (
            "missing account id",
            |text| text.replacen("account_id = \"111111111111\"\n", "", 1),
            "missing field `account_id`",
        ),
        (
            "bad account id",
            |text| text.replacen("\"111111111111\"", "\"1111\"", 1),
            "`trading.account_id` is `1111`, not a 12-digit AWS account id",
        ),
    ];
    for (case, edit, expected) in cases {
        let path = write_config(temp.path(), edit);
        let output = run_with_config("apply", &state, &path, &["--yes"]);
        assert_eq!(output.status.code(), Some(1), "{case}");
        let message = stderr(&output);
        assert!(message.contains(expected), "{case}: {message}");
        assert!(message.contains(&path.display().to_string()), "{case} names the file: {message}");
        assert!(!state.exists(), "{case}: no state was created");
    }
    let missing = run_with_config("plan", &state, &temp.path().join("absent.toml"), &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("cannot read stack config"), "{}", stderr(&missing));
}

#[test]
fn apply_without_yes_on_a_pipe_refuses() {
    let temp = tempfile::tempdir().expect("temp dir");
    let state = temp.path().join("state");
    let output = run("apply", &state, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("pass --yes"), "{}", stderr(&output));
}

#[test]
fn a_saved_plan_is_refused_once_the_state_has_moved() {
    let temp = tempfile::tempdir().expect("temp dir");
    let state = temp.path().join("state");
    let saved = temp.path().join("plan.json");
    let planned = run("plan", &state, &["--out", &saved.display().to_string()]);
    assert!(planned.status.success(), "{}", stderr(&planned));
    assert!(stdout(&planned).contains("Saved the plan to"), "{}", stdout(&planned));
    {
        let store = Store::open(&state).expect("open");
        let apply = store.begin_apply(OperationKind::Apply, 1).expect("apply");
        store.put_resource(apply, &record("someone-elses-change")).expect("put");
        store.flush().expect("flush");
    }
    let_sled_threads_release_the_state();

    let applied = run("apply", &state, &["--yes", "--plan", &saved.display().to_string()]);

    assert_eq!(applied.status.code(), Some(1));
    assert!(stderr(&applied).contains("the plan is stale"), "{}", stderr(&applied));
    assert!(stderr(&applied).contains("run `plan` again"), "{}", stderr(&applied));
}
