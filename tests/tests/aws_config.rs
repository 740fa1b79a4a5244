//! AWS Config resource types against the emulator, through the real engine and provider:
//! recorder, delivery channel, recorder status and rules: create, read back, update in
//! place, replace on a force-new change, delete; input validation.
//!
//! moto gap: moto 5.2.5 never evaluates Config rules (describe_compliance_by_config_rule,
//! get_compliance_details_by_config_rule, describe_config_rule_evaluation_status and
//! start_config_rules_evaluation answer HTTP 500), so these tests prove the rules exist as
//! declared, not what they find. On AWS the rules evaluate once the recorder records.

use std::collections::BTreeMap;

use cairn_dsl::aws::config::{ConfigRule, ConfigurationRecorder, DeliveryChannel, RecorderStatus};
use cairn_dsl::{Declare, Resource, Stack, json_document, tags};
use cairn_engine::{Action, Observed, Provider, ProviderBinding};
use cairn_tests::{Harness, action_of, assert_refused, request, tag_map, tagged_stack};
use serde_json::json;

const REGION: &str = "us-east-1";
const STACK: &str = "config-test";

/// moto gap: put_config_rule accepts a scope by tag (TagKey/TagValue) but
/// describe_config_rules answers it with an empty `Scope`; on AWS it returns both. The tag
/// scope of `required-tags` cannot be read back from moto.
const TAG_SCOPE: [&str; 2] = ["scope_tag_key", "scope_tag_value"];

/// Reads a rule back: everything recorded, but the tag scope moto cannot show.
async fn read_back_rule(harness: &Harness, name: &str, place: &ProviderBinding) -> Observed {
    harness.observe_as_recorded(name, place, &TAG_SCOPE).await
}

/// A bucket for the delivery channel, made with the raw client.
async fn bucket(harness: &Harness, place: &ProviderBinding, name: &str) {
    let clients = harness.clients(place).await;
    clients.s3.create_bucket().bucket(name).send().await.expect("a bucket");
}

struct RecordingVersion {
    recorder: &'static str,
    role: &'static str,
    global: bool,
    channel: &'static str,
    prefix: &'static str,
    frequency: &'static str,
    recording: bool,
}

fn recording_stack(account: &str, version: &RecordingVersion) -> Stack {
    let (stack, main) = tagged_stack(STACK, account, REGION);
    let recorder = main.add(
        ConfigurationRecorder::new("recorder")
            .name(version.recorder)
            .role_arn(format!("arn:aws:iam::{account}:role/{}", version.role))
            .all_supported(true)
            .include_global_resource_types(version.global),
    );
    let channel = main.add(
        DeliveryChannel::new("channel")
            .name(version.channel)
            .s3_bucket_name(format!("config-{account}-test"))
            .s3_key_prefix(version.prefix)
            .snapshot_delivery_frequency(version.frequency)
            .depends_on(&recorder),
    );
    main.add(
        RecorderStatus::new("recording")
            .name(recorder.id())
            .is_enabled(version.recording)
            .depends_on(&channel),
    );
    stack
}

/// Whether the recorder `name` records, as the raw API says.
async fn raw_recording(harness: &Harness, place: &ProviderBinding, name: &str) -> bool {
    let clients = harness.clients(place).await;
    let found = clients
        .config
        .describe_configuration_recorder_status()
        .configuration_recorder_names(name)
        .send()
        .await
        .expect("recorder status");
    found.configuration_recorders_status().first().is_some_and(|status| status.recording())
}

#[tokio::test]
async fn recorder_channel_and_status_lifecycle() {
    let (harness, account, place) = Harness::with_fresh_account(REGION);
    // moto gap: put_delivery_channel checks neither that the bucket exists nor its policy;
    // on AWS it fails with NoSuchBucketException / InsufficientDeliveryPolicyException.
    bucket(&harness, &place, &format!("config-{account}-test")).await;
    let first = RecordingVersion {
        recorder: "recorder-test",
        role: "config-role-test",
        global: false,
        channel: "channel-test",
        prefix: "config",
        frequency: "One_Hour",
        recording: true,
    };

    let plan = harness.apply(&recording_stack(&account, &first)).await;
    for name in ["recorder", "channel", "recording"] {
        assert_eq!(action_of(&plan, name), Action::Create, "{name}");
        harness.observe_as_recorded(name, &place, &[]).await;
    }
    assert_eq!(harness.output("recorder", "id"), "recorder-test");
    assert_eq!(harness.output("channel", "id"), "channel-test");
    assert_eq!(harness.output("recording", "id"), "recorder-test");
    assert!(raw_recording(&harness, &place, "recorder-test").await, "the recorder records");

    let second = RecordingVersion {
        role: "config-role-2-test",
        global: true,
        prefix: "config-2",
        frequency: "Six_Hours",
        recording: false,
        ..first
    };
    let plan = harness.apply(&recording_stack(&account, &second)).await;
    for name in ["recorder", "channel", "recording"] {
        assert_eq!(action_of(&plan, name), Action::Update, "{name}");
        harness.observe_as_recorded(name, &place, &[]).await;
    }
    assert_eq!(harness.output("recorder", "id"), "recorder-test");
    assert_eq!(harness.output("channel", "id"), "channel-test");
    assert!(!raw_recording(&harness, &place, "recorder-test").await, "the recorder stopped");

    // A new recorder name replaces the recorder (deleted first: one per account) and the
    // status that reads its id; the channel only depends on it and stays.
    let old_recorder = harness.record("recorder").expect("recorded");
    let third = RecordingVersion { recorder: "recorder-2-test", recording: true, ..second };
    let plan = harness.apply(&recording_stack(&account, &third)).await;
    assert_eq!(action_of(&plan, "recorder"), Action::Replace);
    assert_eq!(action_of(&plan, "recording"), Action::Replace);
    assert_eq!(action_of(&plan, "channel"), Action::NoOp);
    assert_eq!(harness.output("recorder", "id"), "recorder-2-test");
    assert_eq!(harness.output("recording", "id"), "recorder-2-test");
    assert!(harness.is_gone(&place, &old_recorder).await, "old one gone");
    for name in ["recorder", "recording"] {
        harness.observe_as_recorded(name, &place, &[]).await;
    }
    assert!(raw_recording(&harness, &place, "recorder-2-test").await, "the new one records");

    // A channel cannot be deleted while the recorder records (AWS and moto say
    // LastDeliveryChannelDeleteFailedException): stop it, then rename the channel.
    let fourth = RecordingVersion { recording: false, ..third };
    harness.apply(&recording_stack(&account, &fourth)).await;
    let old_channel = harness.record("channel").expect("recorded");
    let fifth = RecordingVersion { channel: "channel-2-test", ..fourth };
    let plan = harness.apply(&recording_stack(&account, &fifth)).await;
    assert_eq!(action_of(&plan, "channel"), Action::Replace);
    assert_eq!(harness.output("channel", "id"), "channel-2-test");
    assert!(harness.is_gone(&place, &old_channel).await, "old one gone");
    harness.observe_as_recorded("channel", &place, &[]).await;

    let records: Vec<_> = ["recorder", "channel", "recording"]
        .into_iter()
        .map(|name| (name, harness.record(name).expect("recorded")))
        .collect();
    harness.destroy(STACK).await;
    for (name, record) in records {
        assert!(harness.record(name).is_none());
        assert!(harness.is_gone(&place, &record).await, "{name} deleted");
    }
    let clients = harness.clients(&place).await;
    let recorders = clients.config.describe_configuration_recorders().send().await.expect("list");
    assert!(recorders.configuration_recorders().is_empty(), "no recorder left");
    let channels = clients.config.describe_delivery_channels().send().await.expect("list");
    assert!(channels.delivery_channels().is_empty(), "no delivery channel left");
}

struct RulesVersion {
    tags_rule: &'static str,
    second_tag: &'static str,
    description: &'static str,
    own_tags: &'static [(&'static str, &'static str)],
}

fn rules_stack(account: &str, version: &RulesVersion) -> Stack {
    let (stack, main) = tagged_stack(STACK, account, REGION);
    // moto gap: put_config_rule does not need a recorder; on AWS a rule needs one in the
    // account (NoAvailableConfigurationRecorderException otherwise), so the stack has one.
    let recorder: Resource<ConfigurationRecorder> = main.add(
        ConfigurationRecorder::new("recorder")
            .name("recorder-test")
            .role_arn(format!("arn:aws:iam::{account}:role/config-role-test"))
            .all_supported(true),
    );
    main.add(
        ConfigRule::new("peering-dns")
            .name("peering-dns-test")
            .source_identifier("VPC_PEERING_DNS_RESOLUTION_CHECK")
            .depends_on(&recorder),
    );
    main.add(
        ConfigRule::new("flow-logs")
            .name("flow-logs-enabled-test")
            .source_identifier("VPC_FLOW_LOGS_ENABLED")
            .input_parameters(json_document(json!({"trafficType": "ALL"})))
            .maximum_execution_frequency("TwentyFour_Hours")
            .depends_on(&recorder),
    );
    main.add(
        ConfigRule::new("open-ports")
            .name("sg-open-ports-test")
            .source_identifier("VPC_SG_OPEN_ONLY_TO_AUTHORIZED_PORTS")
            .input_parameters(json_document(json!({"authorizedTcpPorts": "443,5432"})))
            .scope_compliance_resource_types(vec!["AWS::EC2::SecurityGroup"])
            .depends_on(&recorder),
    );
    main.add(
        ConfigRule::new("required-tags")
            .name(version.tags_rule)
            .source_identifier("REQUIRED_TAGS")
            .input_parameters(json_document(
                json!({"tag1Key": "CostCenter", "tag2Key": version.second_tag}),
            ))
            .scope_tag_key("Environment")
            .scope_tag_value("test")
            .description(version.description)
            .tags(tags(version.own_tags.iter().copied()))
            .depends_on(&recorder),
    );
    stack
}

/// The tags AWS has on the rule `arn`, cairn's own included.
async fn raw_rule_tags(
    harness: &Harness,
    place: &ProviderBinding,
    arn: &str,
) -> BTreeMap<String, String> {
    let clients = harness.clients(place).await;
    let found = clients.config.list_tags_for_resource().resource_arn(arn).send().await;
    tag_map(found.expect("rule tags").tags().iter().map(|tag| (tag.key(), tag.value())))
}

const RULES: [&str; 4] = ["peering-dns", "flow-logs", "open-ports", "required-tags"];

#[tokio::test]
async fn config_rules_lifecycle() {
    let (harness, account, place) = Harness::with_fresh_account(REGION);
    let first = RulesVersion {
        tags_rule: "required-tags-test",
        second_tag: "Environment",
        description: "cost center and environment tags",
        own_tags: &[("Owner", "a"), ("Team", "network")],
    };

    let plan = harness.apply(&rules_stack(&account, &first)).await;
    for name in RULES {
        assert_eq!(action_of(&plan, name), Action::Create, "{name}");
        read_back_rule(&harness, name, &place).await;
        let arn = harness.output(name, "arn");
        assert!(
            arn.starts_with(&format!("arn:aws:config:{REGION}:{account}:config-rule/")),
            "{arn}"
        );
        let raw_tags = raw_rule_tags(&harness, &place, &arn).await;
        let urn = harness.record(name).expect("recorded").urn;
        assert_eq!(raw_tags.get("cairn:urn"), Some(&urn), "{name} carries the ownership tag");
    }
    assert_eq!(harness.output("required-tags", "id"), "required-tags-test");
    let arn = harness.output("required-tags", "arn");

    // moto replaces the whole rule on put, tags included: the update re-sends every tag and
    // removes dropped ones explicitly, so the ownership tag stays and `Team` goes.
    let second = RulesVersion {
        second_tag: "Owner",
        description: "cost center and owner tags",
        own_tags: &[("Owner", "b")],
        ..first
    };
    let plan = harness.apply(&rules_stack(&account, &second)).await;
    assert_eq!(action_of(&plan, "required-tags"), Action::Update);
    for name in ["peering-dns", "flow-logs", "open-ports"] {
        assert_eq!(action_of(&plan, name), Action::NoOp, "{name}");
    }
    assert_eq!(harness.output("required-tags", "id"), "required-tags-test");
    assert_eq!(harness.output("required-tags", "arn"), arn, "the same rule");
    let observed = read_back_rule(&harness, "required-tags", &place).await;
    assert_eq!(
        observed.inputs.get("tags"),
        Some(&json!({"CostCenter": "cc-1", "Environment": "test", "Owner": "b"}))
    );
    let urn = harness.record("required-tags").expect("recorded").urn;
    assert_eq!(raw_rule_tags(&harness, &place, &arn).await.get("cairn:urn"), Some(&urn));

    let old_record = harness.record("required-tags").expect("recorded");
    let third = RulesVersion { tags_rule: "required-tags-2-test", ..second };
    let plan = harness.apply(&rules_stack(&account, &third)).await;
    assert_eq!(action_of(&plan, "required-tags"), Action::Replace);
    assert_eq!(harness.output("required-tags", "id"), "required-tags-2-test");
    assert_ne!(harness.output("required-tags", "arn"), arn);
    assert!(harness.is_gone(&place, &old_record).await, "old gone");
    read_back_rule(&harness, "required-tags", &place).await;

    let records: Vec<_> =
        RULES.into_iter().map(|name| (name, harness.record(name).expect("recorded"))).collect();
    harness.destroy(STACK).await;
    for (name, record) in records {
        assert!(harness.record(name).is_none());
        assert!(harness.is_gone(&place, &record).await, "{name} deleted");
    }
    let clients = harness.clients(&place).await;
    let rules = clients.config.describe_config_rules().send().await.expect("rules");
    assert!(rules.config_rules().is_empty(), "no rule left");
}

const RULE: &str = "aws:config/ConfigRule";

#[tokio::test]
async fn config_rules_are_found_by_ownership_tag_and_report_aws_errors() {
    let (harness, _, place) = Harness::with_fresh_account(REGION);
    let inputs = json!({
        "name": "orphan-rule-test",
        "source_identifier": "VPC_FLOW_LOGS_ENABLED",
        "tags": {"CostCenter": "cc-1"},
    });
    let created = request(STACK, &place, RULE, "orphan-rule", inputs.clone());
    harness.create_and_find(&created).await;
    let stranger = request(STACK, &place, RULE, "someone-else", inputs);
    assert_eq!(harness.provider.find_owned(&stranger, None).await.expect("find_owned"), None);

    // AWS (and moto) check a managed rule's parameters: the error names the resource and
    // carries AWS's code and message.
    let missing_key = request(
        STACK,
        &place,
        RULE,
        "bad-rule",
        json!({
            "name": "bad-rule-test",
            "source_identifier": "REQUIRED_TAGS",
            "input_parameters": "{\"tag2Key\": \"Owner\"}",
        }),
    );
    let error =
        harness.provider.create(&missing_key).await.expect_err("REQUIRED_TAGS needs tag1Key");
    assert!(error.message.contains("aws:config/ConfigRule `bad-rule`"), "{}", error.message);
    assert!(error.message.contains("InvalidParameterValueException"), "{}", error.message);
}

#[test]
fn bad_config_inputs_stop_the_plan() {
    let (stack, main) = tagged_stack(STACK, "000000000000", REGION);
    main.add(ConfigurationRecorder::new("recorder").name("recorder-test").all_supported(false));
    main.add(
        DeliveryChannel::new("channel")
            .name("channel-test")
            .s3_bucket_name("bucket-test")
            .s3_key_prefix("")
            .snapshot_delivery_frequency("Hourly"),
    );
    main.add(RecorderStatus::new("status").name("recorder-test"));
    main.add(
        ConfigRule::new("rule")
            .name("rule-test")
            .source_identifier("REQUIRED_TAGS")
            .input_parameters("{\"tag1Key\": ")
            .scope_compliance_resource_types(vec!["AWS::EC2::VPC"])
            .scope_tag_key("Environment")
            .maximum_execution_frequency("Daily"),
    );
    main.add(ConfigRule::new("rule-2").name("rule-2-test").scope_tag_value("test"));

    assert_refused(
        &stack,
        &[
            "`recorder` (aws:config/ConfigurationRecorder) property `role_arn`: it is not set",
            "property `all_supported`: false would record no resource type",
            "property `s3_key_prefix`: the prefix is empty",
            "property `snapshot_delivery_frequency`: `Hourly` is not a value AWS accepts here",
            "`status` (aws:config/RecorderStatus) property `is_enabled`: it is not set",
            "`rule` (aws:config/ConfigRule) property `input_parameters`: it is not valid JSON",
            "property `scope_tag_key`: the scope sets both resource types and a tag",
            "property `maximum_execution_frequency`: `Daily` is not a value AWS accepts here",
            "`rule-2` (aws:config/ConfigRule) property `source_identifier`: it is not set",
            "property `scope_tag_value`: a tag value without a tag key",
        ],
    );
}
