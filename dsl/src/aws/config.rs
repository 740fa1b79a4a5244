//! AWS Config: recorder, delivery channel, recorder status and rules.
//!
//! An account has at most one configuration recorder and one delivery channel per region,
//! and many organisations already run them: declare these only where the stack owns them.
//! The order AWS needs is recorder, then delivery channel (`depends_on` the recorder), then
//! recorder status (`depends_on` the channel); rules need a recorder in the account.

use cairn_engine::{Input, InputIssue, ResourceView};
use serde_json::Value;

use crate::checks::{json_object_text, one_of, required};
use crate::resource;

resource! {
    /// The configuration recorder of an account and region: what AWS Config records. It
    /// records every supported resource type.
    ConfigurationRecorder(ConfigurationRecorderArgs, ConfigurationRecorderOutputs) "aws:config/ConfigurationRecorder" {
        taggable: false,
        create_before_delete: false,
        validate: validate_recorder,
        inputs {
            /// The recorder's name; changing it makes a new recorder (the old one is deleted
            /// first: an account has only one).
            name: String [force_new, name],
            /// The role AWS Config assumes to read resources (with the managed policy
            /// `service-role/AWS_ConfigRole`).
            role_arn: String,
            /// Whether every supported resource type is recorded; must be true (cairn does
            /// not take a list of resource types yet).
            all_supported: bool,
            /// Whether global resources (IAM) are recorded too.
            include_global_resource_types: bool,
        }
        outputs {
            /// The recorder's name.
            id: String,
        }
    }
}

fn validate_recorder(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(view, &["name", "role_arn"]);
    let all_supported = view.input("all_supported").and_then(Input::as_literal);
    if all_supported == Some(&Value::Bool(false)) {
        found.push(InputIssue::new(
            "all_supported",
            "false would record no resource type (this type takes no list of types)",
            "set all_supported to true",
        ));
    }
    found
}

resource! {
    /// Where AWS Config delivers configuration snapshots and history: an S3 bucket whose
    /// policy lets `config.amazonaws.com` write. Needs the recorder to exist first.
    DeliveryChannel(DeliveryChannelArgs, DeliveryChannelOutputs) "aws:config/DeliveryChannel" {
        taggable: false,
        create_before_delete: false,
        validate: validate_delivery_channel,
        inputs {
            /// The channel's name; changing it makes a new channel (the old one is deleted first).
            name: String [force_new, name],
            /// The bucket AWS Config writes to.
            s3_bucket_name: String,
            /// A key prefix in the bucket (not empty when set).
            s3_key_prefix: String,
            /// How often snapshots are delivered: `One_Hour`, `Three_Hours`, `Six_Hours`,
            /// `Twelve_Hours` or `TwentyFour_Hours`.
            snapshot_delivery_frequency: String,
        }
        outputs {
            /// The channel's name.
            id: String,
        }
    }
}

/// The frequencies of snapshot delivery and of periodic rules.
const FREQUENCIES: [&str; 5] =
    ["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"];

fn validate_delivery_channel(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(view, &["name", "s3_bucket_name"]);
    found.extend(one_of(view, "snapshot_delivery_frequency", &FREQUENCIES));
    if view.literal_str("s3_key_prefix") == Some("") {
        found.push(InputIssue::new(
            "s3_key_prefix",
            "the prefix is empty",
            "leave s3_key_prefix unset or give a prefix",
        ));
    }
    found
}

resource! {
    /// Whether a configuration recorder records: starts or stops it. Needs the delivery
    /// channel first (`depends_on` it); deleting it stops the recorder.
    RecorderStatus(RecorderStatusArgs, RecorderStatusOutputs) "aws:config/RecorderStatus" {
        taggable: false,
        create_before_delete: false,
        validate: validate_recorder_status,
        inputs {
            /// The recorder's name (reference the recorder's `id`).
            name: String [force_new],
            /// Whether it records.
            is_enabled: bool,
        }
        outputs {
            /// The recorder's name.
            id: String,
        }
    }
}

fn validate_recorder_status(view: &ResourceView<'_>) -> Vec<InputIssue> {
    required(view, &["name", "is_enabled"])
}

resource! {
    /// An AWS Config rule backed by an AWS managed rule. Rules need a configuration recorder
    /// in the account and region.
    ConfigRule(ConfigRuleArgs, ConfigRuleOutputs) "aws:config/ConfigRule" {
        taggable: true,
        create_before_delete: false,
        validate: validate_config_rule,
        inputs {
            /// The rule's name (include the environment suffix); changing it makes a new rule.
            name: String [force_new, name],
            /// The managed rule's identifier, for example `VPC_FLOW_LOGS_ENABLED`.
            source_identifier: String,
            /// The managed rule's parameters: a JSON object of strings (see
            /// [`json_document`](crate::json_document)).
            input_parameters: String,
            /// The resource types it evaluates, for example `AWS::EC2::VPC`.
            scope_compliance_resource_types: Vec<String>,
            /// Evaluates only resources with this tag (not together with resource types).
            scope_tag_key: String,
            /// With `scope_tag_key`: only resources whose tag has this value.
            scope_tag_value: String,
            /// A description of the rule.
            description: String,
            /// How often a periodic rule runs: `One_Hour` to `TwentyFour_Hours`.
            maximum_execution_frequency: String,
        }
        outputs {
            /// The rule's name.
            id: String,
            /// The rule's ARN.
            arn: String,
        }
    }
}

fn validate_config_rule(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(view, &["name", "source_identifier"]);
    found.extend(json_object_text(view, "input_parameters"));
    found.extend(one_of(view, "maximum_execution_frequency", &FREQUENCIES));
    let set = |property: &str| view.input(property).is_some();
    if set("scope_compliance_resource_types") && set("scope_tag_key") {
        found.push(InputIssue::new(
            "scope_tag_key",
            "the scope sets both resource types and a tag",
            "scope the rule by resource types or by tag, not both",
        ));
    }
    if set("scope_tag_value") && !set("scope_tag_key") {
        found.push(InputIssue::new(
            "scope_tag_value",
            "a tag value without a tag key",
            "set scope_tag_key too",
        ));
    }
    found
}
