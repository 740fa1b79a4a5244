//! The binaries on bad input: a clear error, a non-zero exit, and the state as it was.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cairn_state::Store;
use common::{corrupt_record, default_config, fingerprint, record_in_state, vpc_record};

/// Runs binary `name` with `args` against the state in `state`, with no AWS endpoint
/// reachable (port 9 on loopback discards).
fn run(name: &str, state: &Path, args: &[&str]) -> Output {
    run_with_config(name, state, &default_config(), args)
}

fn run_with_config(name: &str, state: &Path, config: &Path, args: &[&str]) -> Output {
    let binary = match name {
        "plan" => env!("CARGO_BIN_EXE_plan"),
        "apply" => env!("CARGO_BIN_EXE_apply"),
        "destroy" => env!("CARGO_BIN_EXE_destroy"),
        "refresh" => env!("CARGO_BIN_EXE_refresh"),
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
fn the_plan_document_redacts_secrets_of_recorded_resources() {
    let temp = tempfile::tempdir().expect("temp dir");
    let state = temp.path().join("state");
    let mut record = vpc_record("trading-vpc");
    record.inputs["note"] = serde_json::json!({"$secret": "leak-me-0123"});
    record_in_state(&state, &record);

    for args in [&["--json"][..], &[]] {
        let output = run("plan", &state, args);
        assert!(output.status.success(), "{}", stderr(&output));
        let printed = stdout(&output) + &stderr(&output);
        assert!(printed.contains("\"trading-vpc\""), "the VPC's change is shown: {printed}");
        assert!(!printed.contains("leak-me-0123"), "plan {args:?} shows a secret: {printed}");
        assert!(printed.contains("(sensitive value)"), "plan {args:?} marks it: {printed}");
    }
}

#[test]
fn a_saved_plan_keeps_secrets_sealed_with_the_states_key() {
    let temp = tempfile::tempdir().expect("temp dir");
    let state = temp.path().join("state");
    let mut record = vpc_record("trading-vpc");
    record.inputs["note"] = serde_json::json!({"$secret": "leak-me-0123"});
    record_in_state(&state, &record);
    let saved = temp.path().join("plan.json");

    let planned = run("plan", &state, &["--out", &saved.display().to_string()]);

    assert!(planned.status.success(), "{}", stderr(&planned));
    let file = std::fs::read_to_string(&saved).expect("plan file");
    assert!(!file.contains("leak-me-0123"), "the plan file holds the secret in clear");
    assert!(file.contains("$secret_ciphertext"), "it holds it sealed");
    // With the state that sealed it, the plan is read (and then refused as stale, the state
    // having moved, before any provider starts); with another state's key it is refused,
    // naming the fix.
    record_in_state(&state, &vpc_record("someone-elses-change"));
    let applied = run("apply", &state, &["--yes", "--plan", &saved.display().to_string()]);
    assert!(!stderr(&applied).contains("could not be unsealed"), "{}", stderr(&applied));
    assert!(stderr(&applied).contains("the plan is stale"), "{}", stderr(&applied));
    let other = temp.path().join("other");
    record_in_state(&other, &vpc_record("trading-vpc"));
    let foreign = run("apply", &other, &["--yes", "--plan", &saved.display().to_string()]);
    assert_eq!(foreign.status.code(), Some(1));
    assert!(stderr(&foreign).contains("could not be unsealed"), "{}", stderr(&foreign));
    assert!(stderr(&foreign).contains("save the plan again"), "{}", stderr(&foreign));
}

#[test]
fn a_locked_state_is_refused_with_the_holder_and_left_alone() {
    let temp = tempfile::tempdir().expect("temp dir");
    let state = temp.path().join("state");
    let holder = Store::open(&state).expect("first opener");
    let before = fingerprint(&state);

    let commands = [
        ("plan", &[][..]),
        ("apply", &["--yes"][..]),
        ("destroy", &["--yes"]),
        ("refresh", &["--yes"]),
    ];
    for (name, args) in commands {
        let output = run(name, &state, args);
        assert_eq!(output.status.code(), Some(1), "{name}");
        let message = stderr(&output);
        let expected = format!("state is locked by another process (pid {}", std::process::id());
        assert!(message.contains(&expected), "{name}: {message}");
    }
    assert_eq!(fingerprint(&state), before, "nothing was written");
    drop(holder);
}

#[test]
fn a_corrupt_record_is_named_and_nothing_is_changed() {
    let temp = tempfile::tempdir().expect("temp dir");
    let state = temp.path().join("state");
    let vpc = vpc_record("trading-vpc");
    record_in_state(&state, &vpc);
    corrupt_record(&state, &vpc.urn);
    let key = vpc.urn;
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
    let text = std::fs::read_to_string(default_config()).expect("default config");
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
    let mode = std::fs::metadata(&saved).expect("plan file").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the plan file is readable by its owner only");
    record_in_state(&state, &vpc_record("someone-elses-change"));

    let applied = run("apply", &state, &["--yes", "--plan", &saved.display().to_string()]);

    assert_eq!(applied.status.code(), Some(1));
    assert!(stderr(&applied).contains("the plan is stale"), "{}", stderr(&applied));
    assert!(stderr(&applied).contains("run `plan` again"), "{}", stderr(&applied));
}
