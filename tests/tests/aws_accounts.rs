//! Provider bindings and accounts: the account check before any change, and isolation.

use std::sync::Arc;

use cairn_dsl::aws::ec2::Vpc;
use cairn_dsl::{Declare, Stack, tags};
use cairn_engine::{ApplyOptions, NoProgress, Provider, RunKind};
use cairn_tests::{Harness, binding, fresh_account};

#[tokio::test]
async fn a_binding_whose_credentials_act_in_another_account_changes_nothing() {
    let harness = Harness::new();
    let (configured, actual) = (fresh_account(), fresh_account());
    // The config says one account; the deployer role it names lives in another.
    let mut wrong = binding("main", &configured, "us-east-1");
    wrong.settings = serde_json::json!({ "deployer_role_arn": format!("arn:aws:iam::{actual}:role/cairn-deployer") });
    let stack = Stack::new("accounts");
    stack
        .provider(wrong)
        .add(Vpc::new("vpc").cidr_block("10.5.0.0/16").tags(tags([("CostCenter", "c")])));
    let plan = cairn_engine::plan(&stack.spec(), &harness.store.snapshot().expect("snapshot"))
        .expect("plan");
    let serial = harness.store.metadata().expect("metadata").serial;

    let provider: Arc<dyn Provider> = harness.provider.clone();
    let options = ApplyOptions { parallelism: 4, kind: RunKind::Apply, started_at_unix: 1 };
    let error = cairn_engine::apply(&plan, &harness.store, provider, options, &NoProgress)
        .await
        .expect_err("the account check fails");

    let message = error.to_string();
    assert!(message.contains(&format!("must act in account {configured}")), "{message}");
    assert!(message.contains(&format!("act in account {actual}")), "{message}");
    let counts = harness.provider.call_counts();
    assert_eq!(counts.mutating, 0, "no mutating call: {:?}", counts.calls);
    assert_eq!(counts.calls, ["STS:GetCallerIdentity"], "only the identity check");
    assert_eq!(
        harness.store.metadata().expect("metadata").serial,
        serial,
        "the state is as it was"
    );
}

#[tokio::test]
async fn refresh_checks_the_accounts_before_reading_anything() {
    let harness = Harness::new();
    let (configured, actual) = (fresh_account(), fresh_account());
    let mut wrong = binding("main", &configured, "us-east-1");
    wrong.settings = serde_json::json!({ "deployer_role_arn": format!("arn:aws:iam::{actual}:role/cairn-deployer") });
    // A state recording one VPC in that binding: read in the wrong account, it would look
    // deleted, and refresh would forget it.
    let recorded = serde_json::to_value(&wrong).expect("binding as JSON");
    harness.store.put_bindings(&[("main".to_owned(), recorded)].into()).expect("bindings");
    let run = harness.store.begin_apply(RunKind::Apply, 1).expect("run");
    let vpc = cairn_state::ResourceRecord {
        urn: "urn:cairn:accounts::main::aws:ec2/Vpc::vpc".into(),
        type_token: "aws:ec2/Vpc".into(),
        name: "vpc".into(),
        binding: "main".into(),
        inputs: serde_json::json!({"cidr_block": "10.5.0.0/16"}),
        outputs: serde_json::json!({"id": "vpc-0123456789abcdef0"}),
        dependencies: Vec::new(),
    };
    harness.store.put_resource(run, &vpc).expect("record");
    let snapshot = harness.store.snapshot().expect("snapshot");

    let provider: Arc<dyn Provider> = harness.provider.clone();
    let error = cairn_engine::detect_drift(&snapshot, provider, 4)
        .await
        .expect_err("the account check fails");

    let message = error.to_string();
    assert!(message.contains(&format!("must act in account {configured}")), "{message}");
    let counts = harness.provider.call_counts();
    assert_eq!(counts.calls, ["STS:GetCallerIdentity"], "nothing was read");
}
