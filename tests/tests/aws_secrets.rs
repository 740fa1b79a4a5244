//! The Secrets Manager data source against the emulator: it reads a secret that exists (never
//! creates one), its value reaches AWS through a role's trust policy, and it stays out of
//! plans and out of the state files in clear.

use std::path::Path;
use std::sync::Arc;

use cairn_dsl::aws::iam::Role;
use cairn_dsl::aws::secretsmanager::SecretValue;
use cairn_dsl::{Stack, json_document, list, object};
use cairn_engine::value::{is_secret, reveal};
use cairn_engine::{Action, Input, RenderOptions, SENSITIVE, render_plan};
use cairn_tests::{Harness, action_of, binding};
use serde_json::json;

const REGION: &str = "us-east-1";
const STACK: &str = "secrets-test";
const ROLE_NAME: &str = "peering-accepter-t1";

/// A trust policy that lets account `peer` assume the role with `external_id`.
fn trust_with_external_id(peer: &str, external_id: Input) -> Input {
    let statement = object([
        ("Effect", Input::from("Allow")),
        ("Principal", object([("AWS", Input::from(format!("arn:aws:iam::{peer}:root")))])),
        ("Action", Input::from("sts:AssumeRole")),
        ("Condition", object([("StringEquals", object([("sts:ExternalId", external_id)]))])),
    ]);
    json_document(object([
        ("Version", Input::from("2012-10-17")),
        ("Statement", list([statement])),
    ]))
}

/// The external id read from `secret_name`, and a role trusted by `peer` with it.
fn accepter_stack(account: &str, secret_name: &str, peer: &str) -> Stack {
    let stack = Stack::new(STACK);
    let main = stack.provider(binding("main", account, REGION));
    let external_id = main.add(SecretValue::new("external-id").secret_id(secret_name));
    main.add(
        Role::new("accepter")
            .name(ROLE_NAME)
            .assume_role_policy(trust_with_external_id(peer, external_id.value().into())),
    );
    stack
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let entries = std::fs::read_dir(dir).expect("a readable directory");
    entries
        .map(|entry| entry.expect("a directory entry").path())
        .flat_map(|path| if path.is_dir() { files_under(&path) } else { vec![path] })
        .collect()
}

/// Whether any file of the state holds `text` in clear.
fn state_holds(harness: &Harness, text: &str) -> bool {
    harness.store.flush().expect("state flushed");
    files_under(harness.store.dir()).iter().any(|file| {
        let bytes = std::fs::read(file).expect("a readable state file");
        bytes.windows(text.len()).any(|window| window == text.as_bytes())
    })
}

/// The role's trust policy as IAM holds it (URL-encoded or not).
async fn trust_policy(iam: &aws_sdk_iam::Client) -> String {
    let role = iam.get_role().role_name(ROLE_NAME).send().await.expect("the role");
    role.role().and_then(|role| role.assume_role_policy_document()).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn secret_value_reaches_aws_but_never_plans_or_state() {
    let (harness, account, place) = Harness::with_fresh_account(REGION);
    let clients = harness.clients(&place).await;
    let secret_name = format!("cairn/peering/external-id-{account}");
    // Letters, digits and hyphens only: it reads the same URL-encoded (as IAM returns
    // documents) or not.
    let value = format!("ext-{account}-Zq7Vb2");
    let seeded = clients
        .secrets
        .create_secret()
        .name(&secret_name)
        .secret_string(&value)
        .send()
        .await
        .expect("secret seeded");
    let secret_arn = seeded.arn().expect("an ARN").to_owned();

    let plan = harness.apply(&accepter_stack(&account, &secret_name, "111111111111")).await;
    assert_eq!(action_of(&plan, "external-id"), Action::Read);
    assert_eq!(action_of(&plan, "accepter"), Action::Create);
    assert!(!render_plan(&plan, RenderOptions::default()).contains(&value));
    assert_eq!(harness.output("external-id", "id"), secret_arn);
    assert_eq!(harness.output("external-id", "name"), secret_name);
    let record = harness.record("external-id").expect("recorded");
    let recorded_value = record.outputs.get("value").expect("a value");
    assert!(is_secret(recorded_value), "the value is recorded as a secret");
    assert_eq!(reveal(recorded_value), json!(value));
    assert!(is_secret(
        harness
            .record("accepter")
            .expect("recorded")
            .inputs
            .get("assume_role_policy")
            .expect("set")
    ));

    // AWS has the real value in the trust policy.
    let trust = trust_policy(&clients.iam).await;
    assert!(trust.contains(&value), "{trust}");
    assert!(trust.contains("111111111111"), "{trust}");

    // On disk, the state holds the role's name in clear but never the secret.
    assert!(state_holds(&harness, ROLE_NAME), "the state files are where we look");
    assert!(!state_holds(&harness, &value), "the secret is encrypted at rest");

    // A change to the trust policy shows as a change of a sensitive value, still redacted.
    let plan = harness.apply(&accepter_stack(&account, &secret_name, "222222222222")).await;
    assert_eq!(action_of(&plan, "external-id"), Action::NoOp);
    assert_eq!(action_of(&plan, "accepter"), Action::Update);
    let text = render_plan(&plan, RenderOptions::default());
    assert!(text.contains(SENSITIVE), "{text}");
    assert!(!text.contains(&value), "{text}");
    let trust = trust_policy(&clients.iam).await;
    assert!(trust.contains(&value) && trust.contains("222222222222"), "{trust}");
    assert!(!state_holds(&harness, &value));

    let observed = harness.read_back("external-id", &place, &record).await.expect("exists");
    assert_eq!(observed.inputs.get("secret_id"), Some(&json!(secret_name)));
    assert_eq!(observed.outputs.get("name"), Some(&json!(secret_name)));

    // Destroy deletes the role and forgets the data source: the secret stays.
    harness.destroy(STACK).await;
    assert!(clients.iam.get_role().role_name(ROLE_NAME).send().await.is_err(), "role gone");
    let kept = clients.secrets.get_secret_value().secret_id(&secret_name).send().await;
    assert_eq!(kept.expect("the secret stays").secret_string(), Some(value.as_str()));
    assert!(!state_holds(&harness, &value));
}

#[tokio::test]
async fn a_missing_secret_fails_the_apply_and_is_never_created() {
    let (harness, account, place) = Harness::with_fresh_account(REGION);
    let clients = harness.clients(&place).await;
    let secret_name = format!("cairn/peering/missing-{account}");

    let stack = accepter_stack(&account, &secret_name, "111111111111");
    let snapshot = harness.store.snapshot().expect("state snapshot");
    let plan = cairn_engine::plan(&stack.spec(), &snapshot).expect("a valid plan");
    let provider: Arc<dyn cairn_engine::Provider> = harness.provider.clone();
    let options = cairn_engine::ApplyOptions {
        parallelism: 4,
        kind: cairn_engine::RunKind::Apply,
        started_at_unix: 0,
    };
    let report =
        cairn_engine::apply(&plan, &harness.store, provider, options, &cairn_engine::NoProgress)
            .await
            .expect("apply runs");
    let failure = report.failed.first().expect("the read failed");
    assert!(failure.message.contains("never creates secrets"), "{}", failure.message);
    assert_eq!(report.skipped.len(), 1, "the role waits for the secret and is not created");
    assert!(clients.iam.get_role().role_name(ROLE_NAME).send().await.is_err());
    let missing = clients.secrets.describe_secret().secret_id(&secret_name).send().await;
    assert!(missing.is_err(), "cairn did not create the secret");
}
