//! A new user's first session: `cairn new` writes a crate outside this checkout; it builds
//! against the checkout (its lock file and target directory, fetching nothing), passes its
//! own offline test, plans, applies into a fresh emulated account through the AWS provider
//! plugin (a process of its own: the program links no SDK), plans clean and destroys. AWS is
//! read back through the SDK, not through cairn's state.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aws_sdk_ec2::types::Filter;
use cairn_cli::scaffold::Scaffold;
use cairn_tests::{
    DUMMY_KEY, aws_plugin, binding, emulator_url, fresh_account, provider, repo_root,
};

/// The scaffolded crate, written into a temporary directory.
struct NewProgram {
    _temp: tempfile::TempDir,
    dir: PathBuf,
    account: String,
}

impl NewProgram {
    fn write() -> Self {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().join("my-infra");
        let checkout = repo_root().canonicalize().expect("the checkout");
        let target = cairn_tests::target_profile_dir().parent().expect("target dir").to_owned();
        let scaffold = Scaffold {
            dir: dir.clone(),
            name: "my-infra".into(),
            lock_file: Some(std::fs::read(checkout.join("Cargo.lock")).expect("the lock file")),
            cairn_checkout: checkout,
            shared_target_dir: Some(target),
        };
        let written = scaffold.write().expect("the scaffold writes");
        assert!(written.contains(&PathBuf::from("tests/plan.rs")), "{written:?}");
        NewProgram { _temp: temp, dir, account: fresh_account() }
    }

    /// `cargo ARGS` in the crate, offline: everything it needs is in the checkout's lock
    /// file and cargo's cache already.
    fn cargo(&self, args: &[&str]) -> Output {
        let output = cairn_cli::plugins::cargo()
            .args(args)
            .arg("--offline")
            .current_dir(&self.dir)
            .output()
            .expect("cargo runs");
        assert!(output.status.success(), "cargo {args:?} failed:\n{}", text(&output));
        output
    }

    /// The program's binary with `args`, as a user runs it against the emulator.
    fn run(&self, args: &[&str]) -> Output {
        let binary = cairn_tests::target_profile_dir().join("my-infra");
        let role = format!("arn:aws:iam::{}:role/cairn-deployer", self.account);
        Command::new(binary)
            .args(args)
            .current_dir(&self.dir)
            .env("CAIRN_PROVIDER_AWS", aws_plugin())
            .env("AWS_ENDPOINT_URL", emulator_url())
            .env("AWS_ACCESS_KEY_ID", DUMMY_KEY)
            .env("AWS_SECRET_ACCESS_KEY", DUMMY_KEY)
            .env("AWS_REGION", "us-east-1")
            .env("CAIRN_CONFIG__ACCOUNT__ID", &self.account)
            .env("CAIRN_CONFIG__ACCOUNT__DEPLOYER_ROLE_ARN", role)
            .output()
            .expect("the program runs")
    }
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "exit {:?}:\n{}", output.status.code(), text(output));
    text(output)
}

/// The VPCs in `account` named `my-infra-vpc-dev1`.
fn vpcs_named(account: &str) -> usize {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let clients =
            provider().clients(&binding("check", account, "us-east-1")).await.expect("clients");
        let name = Filter::builder().name("tag:Name").values("my-infra-vpc-dev1").build();
        let found = clients.ec2.describe_vpcs().filters(name).send().await.expect("describe");
        found.vpcs().len()
    })
}

#[test]
fn a_scaffolded_program_builds_plans_applies_and_destroys() {
    let program = NewProgram::write();
    program.cargo(&["build", "--quiet"]);
    let tested = program.cargo(&["test", "--quiet"]);
    assert!(text(&tested).contains("1 passed"), "its own test ran: {}", text(&tested));
    assert_no_sdk_in(&program.dir);

    let planned = succeeded(&program.run(&["plan"]));
    assert!(planned.contains("Plan: 4 to add, 0 to change, 0 to destroy."), "{planned}");
    assert!(planned.contains("flow-logs-on-every-vpc"), "the starter's waiver is shown: {planned}");

    let applied = succeeded(&program.run(&["apply", "--yes"]));
    assert!(applied.contains("Apply complete! 4 operations."), "{applied}");
    assert_eq!(vpcs_named(&program.account), 1, "the VPC is in the account");
    let outputs = std::fs::read_to_string(program.dir.join("cfn-outputs/flat-outputs.json"))
        .expect("the outputs file");
    assert!(outputs.contains("\"VpcId\": \"vpc-"), "{outputs}");

    let again = succeeded(&program.run(&["plan"]));
    assert!(again.contains("No changes."), "{again}");

    let destroyed = succeeded(&program.run(&["destroy", "--yes"]));
    assert!(destroyed.contains("Destroy complete! 4 operations."), "{destroyed}");
    assert_eq!(vpcs_named(&program.account), 0, "nothing is left in the account");
}

/// The crate's dependency tree holds cairn and no aws-sdk crate: editing it never rebuilds
/// the SDK.
fn assert_no_sdk_in(dir: &Path) {
    let tree = cairn_cli::plugins::cargo()
        .args(["tree", "--offline", "--edges", "normal", "--prefix", "none"])
        .current_dir(dir)
        .output()
        .expect("cargo tree");
    let tree = String::from_utf8_lossy(&tree.stdout);
    assert!(tree.contains("cairn v"), "{tree}");
    assert!(!tree.contains("aws-sdk-"), "a program links no AWS SDK:\n{tree}");
}
