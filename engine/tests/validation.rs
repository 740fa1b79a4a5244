//! Validation errors: each names the resource, the property and the fix, and stops planning.

mod common;

use cairn_engine::{DeclarationError, PlanError, Snapshot};
use common::{NETWORK, NODE, SUBNET, add, lit, output, stack};
use serde_json::json;

fn errors_of(spec: &cairn_engine::StackSpec) -> Vec<DeclarationError> {
    match cairn_engine::plan(spec, &Snapshot::default()) {
        Err(PlanError::Declarations(errors)) => errors.0,
        other => panic!("expected declaration errors, got {other:?}"),
    }
}

#[test]
fn a_cycle_lists_its_members_in_order() {
    let mut spec = stack();
    add(&mut spec, "a", &NODE, &[("after", output("c", "id"))]);
    add(&mut spec, "b", &NODE, &[("after", output("a", "id"))]);
    add(&mut spec, "c", &NODE, &[("after", output("b", "id"))]);
    add(&mut spec, "free", &NODE, &[]);
    let errors = errors_of(&spec);
    assert_eq!(
        errors,
        [DeclarationError::Cycle { members: vec!["a".into(), "b".into(), "c".into(), "a".into()] }]
    );
    assert!(errors[0].to_string().contains("a -> b -> c -> a"));
}

#[test]
fn a_self_reference_is_a_cycle() {
    let mut spec = stack();
    add(&mut spec, "me", &NODE, &[("after", output("me", "id"))]);
    assert_eq!(
        errors_of(&spec),
        [DeclarationError::Cycle { members: vec!["me".into(), "me".into()] }]
    );
}

#[test]
fn duplicate_names_dangling_references_and_unknown_outputs_are_all_reported() {
    let mut spec = stack();
    add(&mut spec, "net", &NETWORK, &[("cidr", lit(json!("10.0.0.0/16")))]);
    add(&mut spec, "net", &SUBNET, &[("size", lit(json!(1)))]);
    add(&mut spec, "sub", &SUBNET, &[("network_id", output("nowhere", "id"))]);
    add(&mut spec, "other", &SUBNET, &[("network_id", output("net", "colour"))]);
    let messages: Vec<String> = errors_of(&spec).iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(messages[0].contains("`net` is declared twice"), "{}", messages[0]);
    assert!(
        messages[1].contains("`sub` property `network_id` refers to `nowhere`"),
        "{}",
        messages[1]
    );
    assert!(messages[2].contains("output `colour` of `net`"), "{}", messages[2]);
    assert!(messages[2].contains("use one of id, arn, cidr"), "{}", messages[2]);
}

#[test]
fn type_validators_name_the_property_and_the_fix() {
    let mut spec = stack();
    add(&mut spec, "big", &SUBNET, &[("size", lit(json!(99)))]);
    let message = errors_of(&spec)[0].to_string();
    assert!(message.contains("resource `big` (test:net/Subnet) property `size`"), "{message}");
    assert!(message.contains("fix: use 10 or less"), "{message}");
}

#[test]
fn an_unknown_binding_is_reported() {
    let mut spec = stack();
    add(&mut spec, "lost", &NODE, &[]);
    spec.resources[0].binding = "elsewhere".into();
    let message = errors_of(&spec)[0].to_string();
    assert!(message.contains("provider binding `elsewhere`"), "{message}");
}

#[test]
fn a_protected_resource_is_never_replaced() {
    let mut spec = stack();
    add(&mut spec, "net", &NETWORK, &[("cidr", lit(json!("10.0.0.0/16")))]);
    let plan = cairn_engine::plan(&spec, &Snapshot::default()).expect("plan");
    let mut state = Snapshot::default();
    for step in &plan.steps {
        state.resources.insert(
            step.urn.to_string(),
            cairn_state::ResourceRecord {
                urn: step.urn.to_string(),
                type_token: step.type_token.clone(),
                name: step.name.clone(),
                binding: step.binding.clone(),
                inputs: json!(step.planned),
                outputs: json!({"id": "net-1"}),
                dependencies: Vec::new(),
            },
        );
    }
    spec.resources[0].inputs.insert("cidr".into(), lit(json!("10.1.0.0/16")));
    spec.resources[0].options.protect = true;
    let error = cairn_engine::plan(&spec, &state).expect_err("protected");
    assert!(error.to_string().contains("`net` is protected"), "{error}");
}

fn big_subnets(context: &cairn_engine::PolicyContext<'_>) -> Vec<cairn_engine::Violation> {
    context
        .resources_of(SUBNET.type_token)
        .filter(|resource| {
            resource.inputs.get("size").and_then(|size| size.as_literal()).and_then(|v| v.as_i64())
                > Some(4)
        })
        .map(|resource| cairn_engine::Violation {
            resource: resource.name.clone(),
            property: "size".into(),
            value: "more than 4".into(),
            problem: "subnets this big waste addresses".into(),
            fix: "use 4 or less".into(),
        })
        .collect()
}

static SMALL_SUBNETS: cairn_engine::PolicyRule = cairn_engine::PolicyRule {
    id: "small-subnets",
    description: "Subnets have size 4 or less.",
    severity: cairn_engine::Severity::Error,
    check: big_subnets,
};

static SMALL_SUBNETS_ADVICE: cairn_engine::PolicyRule = cairn_engine::PolicyRule {
    id: "small-subnets-advice",
    description: "Subnets should have size 4 or less.",
    severity: cairn_engine::Severity::Warning,
    check: big_subnets,
};

fn with_big_subnet(rule: &'static cairn_engine::PolicyRule) -> cairn_engine::StackSpec {
    let mut spec = stack();
    add(&mut spec, "net", &NETWORK, &[("cidr", lit(json!("10.0.0.0/16")))]);
    add(&mut spec, "big", &SUBNET, &[("network_id", output("net", "id")), ("size", lit(json!(8)))]);
    spec.policies.push(rule);
    spec
}

#[test]
fn an_error_rule_blocks_the_plan_naming_resource_property_value_and_fix() {
    let error = cairn_engine::plan(&with_big_subnet(&SMALL_SUBNETS), &Snapshot::default())
        .expect_err("blocked");
    assert_eq!(
        error.to_string().lines().nth(1).map(str::trim),
        Some(
            "- [small-subnets] resource `big` property `size` = more than 4: subnets this big \
             waste addresses; fix: use 4 or less"
        )
    );
}

#[test]
fn a_warning_is_shown_and_a_waiver_is_printed_with_its_reason() {
    let plan = cairn_engine::plan(&with_big_subnet(&SMALL_SUBNETS_ADVICE), &Snapshot::default())
        .expect("warnings do not block");
    let text = cairn_engine::render_plan(&plan, cairn_engine::RenderOptions::default());
    assert!(text.starts_with("Policy warning: [small-subnets-advice] resource `big`"), "{text}");

    let mut waived = with_big_subnet(&SMALL_SUBNETS);
    waived.resources[1].options.waivers.push(cairn_engine::Waiver {
        rule: "small-subnets".into(),
        reason: "the batch cluster needs room".into(),
    });
    let plan = cairn_engine::plan(&waived, &Snapshot::default()).expect("waived");
    let text = cairn_engine::render_plan(&plan, cairn_engine::RenderOptions::default());
    assert!(text.contains("Waived: [small-subnets] resource `big`"), "{text}");
    assert!(text.contains("(waived: the batch cluster needs room)"), "{text}");
}
