//! The architecture's invariants that the build alone does not enforce: which crates may
//! link the AWS SDK. Printing outside the command-line layer is denied by clippy's
//! `print_stdout`/`print_stderr` lints (workspace lints), allowed only in `cairn-cli` and
//! the binaries.

/// The normal dependencies of `package`, one crate a line.
fn dependencies_of(package: &str) -> String {
    let output = cairn_cli::plugins::cargo()
        .args(["tree", "--offline", "--edges", "normal", "--prefix", "none", "--package", package])
        .current_dir(cairn_tests::repo_root())
        .output()
        .expect("cargo tree runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn only_the_aws_provider_links_the_aws_sdk() {
    let free = [
        "cairn-state",
        "cairn-engine",
        "cairn-dsl",
        "cairn-plugin",
        "cairn-cli",
        "cairn",
        "vpc-peering",
        "network-baseline",
        "cairn-benches",
    ];
    for package in free {
        let tree = dependencies_of(package);
        assert!(tree.contains(&format!("{package} v")), "{package}: {tree}");
        let sdk: Vec<&str> = tree.lines().filter(|line| line.starts_with("aws-")).collect();
        assert!(sdk.is_empty(), "{package} must not link the AWS SDK, but links {sdk:?}");
    }
    assert!(dependencies_of("cairn-aws").contains("aws-sdk-ec2 v"), "the check sees the SDK");
}
