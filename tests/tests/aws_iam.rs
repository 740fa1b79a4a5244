//! IAM resource types against the emulator, through the real engine and provider: create,
//! read back, update in place, replace on a force-new change, delete; roles found again by
//! name and ownership tag; roles deleted with policies cairn did not put on them.

use cairn_dsl::aws::iam::{Role, RolePolicy, RolePolicyAttachment};
use cairn_dsl::{Declare, Stack, json_document, tags};
use cairn_engine::{Action, Provider};
use cairn_tests::{Harness, action_of, as_another, binding, recorded, request};
use serde_json::{Value, json};

const REGION: &str = "us-east-1";
const STACK: &str = "iam-test";
const CONFIG_ROLE_POLICY: &str = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole";
const READ_ONLY_POLICY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

/// A trust policy that lets `service` assume the role.
fn trust(service: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
        }],
    })
    .to_string()
}

/// What the role test changes between applies.
struct RoleSpec<'a> {
    name: &'a str,
    service: &'a str,
    description: &'a str,
    session: i64,
    owner: &'a str,
}

fn role_stack(account: &str, spec: &RoleSpec<'_>) -> Stack {
    let stack = Stack::new(STACK);
    stack.set_default_tags(tags([("CostCenter", "cc-1")]));
    let main = stack.provider(binding("main", account, REGION));
    main.add(
        Role::new("role")
            .name(spec.name)
            .assume_role_policy(trust(spec.service))
            .description(spec.description)
            .max_session_duration(spec.session)
            .path("/cairn/")
            .tags(tags([("Owner", spec.owner)])),
    );
    stack
}

#[tokio::test]
async fn role_lifecycle() {
    let (harness, account, place) = Harness::with_fresh_account(REGION);
    let iam = harness.clients(&place).await.iam.clone();
    let first = RoleSpec {
        name: "app-role-t1",
        service: "ec2.amazonaws.com",
        description: "first",
        session: 3600,
        owner: "a",
    };

    let plan = harness.apply(&role_stack(&account, &first)).await;
    assert_eq!(action_of(&plan, "role"), Action::Create);
    let record = harness.record("role").expect("recorded");
    assert_eq!(harness.output("role", "id"), "app-role-t1");
    assert_eq!(
        harness.output("role", "arn"),
        format!("arn:aws:iam::{account}:role/cairn/app-role-t1")
    );
    let unique_id = harness.output("role", "unique_id");
    assert!(!unique_id.is_empty());
    let observed = harness.observe("role", &place).await;
    assert_eq!(observed.inputs.get("name"), Some(&json!("app-role-t1")));
    assert_eq!(observed.inputs.get("assume_role_policy"), Some(&json!(trust("ec2.amazonaws.com"))));
    assert_eq!(observed.inputs.get("description"), Some(&json!("first")));
    assert_eq!(observed.inputs.get("max_session_duration"), Some(&json!(3600)));
    assert_eq!(observed.inputs.get("path"), Some(&json!("/cairn/")));
    assert_eq!(observed.inputs.get("tags"), Some(&json!({"CostCenter": "cc-1", "Owner": "a"})));
    // The provider's read leaves cairn's own tags out; AWS has the ownership tag too.
    let role = iam.get_role().role_name("app-role-t1").send().await.expect("the role");
    let urn = record.urn.clone();
    assert!(
        role.role()
            .expect("described")
            .tags()
            .iter()
            .any(|tag| tag.key() == "cairn:urn" && tag.value() == urn),
        "the role carries its URN"
    );

    let second = RoleSpec {
        service: "lambda.amazonaws.com",
        description: "second",
        session: 7200,
        owner: "b",
        ..first
    };
    let plan = harness.apply(&role_stack(&account, &second)).await;
    assert_eq!(action_of(&plan, "role"), Action::Update);
    assert_eq!(harness.output("role", "unique_id"), unique_id, "an update keeps the role");
    let record = harness.record("role").expect("recorded");
    let observed = harness.observe("role", &place).await;
    assert_eq!(
        observed.inputs.get("assume_role_policy"),
        Some(&json!(trust("lambda.amazonaws.com")))
    );
    assert_eq!(observed.inputs.get("description"), Some(&json!("second")));
    assert_eq!(observed.inputs.get("max_session_duration"), Some(&json!(7200)));
    assert_eq!(observed.inputs.get("tags"), Some(&json!({"CostCenter": "cc-1", "Owner": "b"})));

    let old_record = record;
    let third = RoleSpec { name: "app-role-t2", ..second };
    let plan = harness.apply(&role_stack(&account, &third)).await;
    assert_eq!(action_of(&plan, "role"), Action::Replace);
    assert_eq!(harness.output("role", "id"), "app-role-t2");
    assert_ne!(harness.output("role", "unique_id"), unique_id, "a new name makes a new role");
    assert!(harness.is_gone(&place, &old_record).await, "the old role is gone");

    let record = harness.record("role").expect("recorded");
    harness.destroy(STACK).await;
    assert!(harness.record("role").is_none());
    assert!(harness.is_gone(&place, &record).await, "destroy deleted it");
}

fn policy_stack(account: &str, action: &str, policy_name: &str, managed: &str) -> Stack {
    let stack = Stack::new(STACK);
    let main = stack.provider(binding("main", account, REGION));
    let role = main.add(
        Role::new("role").name("config-role-t1").assume_role_policy(trust("config.amazonaws.com")),
    );
    let document = json_document(json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
    }));
    main.add(RolePolicy::new("inline").role(role.id()).name(policy_name).policy(document));
    main.add(RolePolicyAttachment::new("managed").role(role.id()).policy_arn(managed));
    stack
}

/// The ARNs of the managed policies attached to `role`, straight from IAM.
async fn attached(iam: &aws_sdk_iam::Client, role: &str) -> Vec<String> {
    let found = iam.list_attached_role_policies().role_name(role).send().await.expect("listed");
    found.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_owned)).collect()
}

#[tokio::test]
async fn inline_policies_and_attachments() {
    let (harness, account, place) = Harness::with_fresh_account(REGION);
    let iam = harness.clients(&place).await.iam.clone();

    let plan =
        harness.apply(&policy_stack(&account, "s3:GetObject", "read", CONFIG_ROLE_POLICY)).await;
    assert_eq!(action_of(&plan, "inline"), Action::Create);
    assert_eq!(action_of(&plan, "managed"), Action::Create);
    assert_eq!(harness.output("inline", "id"), "config-role-t1:read");
    assert_eq!(harness.output("managed", "id"), format!("config-role-t1:{CONFIG_ROLE_POLICY}"));
    let inline = harness.record("inline").expect("recorded");
    let observed = harness.observe("inline", &place).await;
    assert_eq!(observed.inputs.get("role"), Some(&json!("config-role-t1")));
    assert_eq!(observed.inputs.get("name"), Some(&json!("read")));
    assert_eq!(observed.inputs.get("policy"), inline.inputs.get("policy"));
    let observed = harness.observe("managed", &place).await;
    assert_eq!(observed.inputs.get("policy_arn"), Some(&json!(CONFIG_ROLE_POLICY)));
    assert_eq!(attached(&iam, "config-role-t1").await, [CONFIG_ROLE_POLICY]);

    let plan =
        harness.apply(&policy_stack(&account, "s3:PutObject", "read", CONFIG_ROLE_POLICY)).await;
    assert_eq!(action_of(&plan, "inline"), Action::Update);
    assert_eq!(action_of(&plan, "managed"), Action::NoOp);
    let inline = harness.record("inline").expect("recorded");
    let observed = harness.observe("inline", &place).await;
    let policy = observed.inputs.get("policy").and_then(Value::as_str).unwrap_or_default();
    assert!(policy.contains("s3:PutObject"), "{policy}");

    let old_inline = inline;
    let plan =
        harness.apply(&policy_stack(&account, "s3:PutObject", "write", READ_ONLY_POLICY)).await;
    assert_eq!(action_of(&plan, "inline"), Action::Replace);
    assert_eq!(action_of(&plan, "managed"), Action::Replace);
    assert_eq!(action_of(&plan, "role"), Action::NoOp);
    assert_eq!(harness.output("inline", "id"), "config-role-t1:write");
    assert!(harness.is_gone(&place, &old_inline).await, "old policy gone");
    assert_eq!(attached(&iam, "config-role-t1").await, [READ_ONLY_POLICY], "old one detached");
    let names = iam.list_role_policies().role_name("config-role-t1").send().await.expect("listed");
    assert_eq!(names.policy_names(), ["write"]);

    let inline = harness.record("inline").expect("recorded");
    let managed = harness.record("managed").expect("recorded");
    harness.destroy(STACK).await;
    assert!(harness.is_gone(&place, &inline).await);
    assert!(harness.is_gone(&place, &managed).await);
    let gone = iam.get_role().role_name("config-role-t1").send().await;
    assert!(gone.is_err(), "the role is gone too");
}

#[tokio::test]
async fn destroy_removes_policies_put_outside_cairn() {
    let (harness, account, place) = Harness::with_fresh_account(REGION);
    let iam = harness.clients(&place).await.iam.clone();
    let spec = RoleSpec {
        name: "busy-role-t1",
        service: "ec2.amazonaws.com",
        description: "has policies cairn does not know",
        session: 3600,
        owner: "a",
    };
    harness.apply(&role_stack(&account, &spec)).await;
    iam.attach_role_policy()
        .role_name("busy-role-t1")
        .policy_arn(READ_ONLY_POLICY)
        .send()
        .await
        .expect("attached out of band");
    iam.put_role_policy()
        .role_name("busy-role-t1")
        .policy_name("manual")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]})
                .to_string(),
        )
        .send()
        .await
        .expect("put out of band");
    // What AWS does to a plain delete: the role keeps its policies and refuses.
    let refused = iam.delete_role().role_name("busy-role-t1").send().await;
    let code =
        refused.err().and_then(|error| error.into_service_error().meta().code().map(str::to_owned));
    assert_eq!(code.as_deref(), Some("DeleteConflict"));

    harness.destroy(STACK).await;
    assert!(iam.get_role().role_name("busy-role-t1").send().await.is_err(), "the role is gone");
}

#[tokio::test]
async fn find_owned_finds_a_role_by_name_and_ownership_tag() {
    let (harness, _, place) = Harness::with_fresh_account(REGION);
    let inputs = json!({
        "name": "adopted-role-t1",
        "assume_role_policy": trust("ec2.amazonaws.com"),
        "tags": {"CostCenter": "cc-1"},
    });
    let request = request(STACK, &place, "aws:iam/Role", "adopted", inputs);
    let created = harness.provider.create(&request).await.expect("created");
    let found =
        harness.provider.find_owned(&request, None).await.expect("looked up").expect("found");
    assert_eq!(found.get("id"), created.get("id"));
    assert_eq!(found.get("unique_id"), created.get("unique_id"));

    // The same name under another URN is someone else's role: not adopted.
    let other = as_another(STACK, &request, "other");
    assert!(harness.provider.find_owned(&other, None).await.expect("looked up").is_none());

    let prior = recorded(&request, created);
    harness.provider.delete(&request, &prior).await.expect("deleted");
    assert!(harness.provider.find_owned(&request, None).await.expect("looked up").is_none());
}
