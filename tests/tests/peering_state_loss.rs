//! The peering program's state damaged or lost after an apply: the next apply must not build
//! a second copy of the stack beside the first. A database deleted under its manifest is
//! refused as damaged; a state directory gone altogether is caught by the ownership check,
//! which stops before any change, naming what exists, and `apply --adopt-owned` takes the
//! stack back. What is in both accounts is counted through the SDK after each run.

use std::process::ExitCode;

use std::path::Path;

use cairn_cli::{self as cli, ApplyArgs};
use cairn_state::Store;
use cairn_tests::peering::Deployment;

#[test]
fn a_lost_state_never_builds_a_second_stack_and_adopt_owned_takes_it_back() {
    let deployment = Deployment::new("us-east-1");
    deployment.seed_secret();
    deployment.apply();
    let applied = deployment.counts();
    let state = deployment.stack_args().state;

    delete_the_database(&state);
    for (what, (code, text)) in [
        ("plan", deployment.run(|io| cli::plan(&deployment.plan_args(), io))),
        ("apply", deployment.try_apply()),
    ] {
        assert_ne!(code, ExitCode::SUCCESS, "{what}: {text}");
        assert!(text.contains("is damaged") && !text.contains("to add"), "{what}: {text}");
    }
    assert_eq!(deployment.counts(), applied, "nothing was made a second time");

    std::fs::remove_dir_all(&state).expect("state removed");

    let (code, refused) = deployment.try_apply();

    assert_ne!(code, ExitCode::SUCCESS, "{refused}");
    assert!(refused.contains("already exist, carrying this stack's ownership tag"), "{refused}");
    assert!(refused.contains("`trading-vpc` (aws:ec2/Vpc in trading): vpc-"), "{refused}");
    assert!(refused.contains("apply --adopt-owned"), "the fix is named: {refused}");
    assert_eq!(deployment.counts(), applied, "nothing was made a second time");
    let snapshot = Store::read_snapshot(&state).expect("state readable");
    assert!(
        snapshot.resources.is_empty() && snapshot.metadata.serial == 0,
        "the state is as it was"
    );

    let adopt = ApplyArgs { adopt_owned: true, ..deployment.apply_args() };
    let (code, adopted) = deployment.run(|io| cli::apply(&adopt, io));

    assert_eq!(code, ExitCode::SUCCESS, "{adopted}");
    assert!(adopted.contains("Adopted"), "{adopted}");
    assert_eq!(deployment.counts(), applied, "adopted, not made again");
    let again = deployment.plan();
    assert!(again.contains("No changes."), "the stack is whole again: {again}");
    deployment.destroy();
    let left = deployment.inventory();
    assert!(left.is_empty(), "nothing left behind: {left:#?}");
}

/// Deletes sled's files from the state directory, keeping cairn's own (the key, the manifest).
fn delete_the_database(state: &Path) {
    for entry in std::fs::read_dir(state).expect("state dir") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        if name == "db" || name == "conf" || name.starts_with("snap.") {
            std::fs::remove_file(&path).expect("database file deleted");
        }
    }
}
