//! AWS KMS keys and aliases.

use cairn_engine::{InputIssue, ResourceView};

use crate::checks::{check_range, issues, json_object_text, required};
use crate::resource;

resource! {
    /// A symmetric KMS key. Deleting it schedules its deletion after a waiting period.
    Key(KeyArgs, KeyOutputs) "aws:kms/Key" {
        taggable: true,
        create_before_delete: true,
        validate: validate_key,
        inputs {
            /// What the key is for.
            description: String,
            /// Rotate the key material every year.
            enable_key_rotation: bool,
            /// The key policy (a JSON document); without it, AWS's default policy (the
            /// account's IAM policies decide).
            policy: String,
            /// Days (7 to 30) between the delete and the end of the key; 30 when not set.
            deletion_window_in_days: i64,
        }
        outputs {
            /// The key id (a UUID).
            id: String,
            /// The key's ARN.
            arn: String,
        }
    }
}

fn validate_key(view: &ResourceView<'_>) -> Vec<InputIssue> {
    issues([json_object_text(view, "policy"), check_range(view, "deletion_window_in_days", 7..=30)])
}

resource! {
    /// A friendly name (`alias/...`) for a KMS key.
    Alias(AliasArgs, AliasOutputs) "aws:kms/Alias" {
        taggable: false,
        create_before_delete: false,
        validate: validate_alias,
        inputs {
            /// The alias, `alias/<name>`; include the environment suffix.
            name: String [force_new, name],
            /// The id or ARN of the key it points to.
            target_key_id: String,
        }
        outputs {
            /// The alias name.
            id: String,
            /// The alias's ARN.
            arn: String,
        }
    }
}

fn validate_alias(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let bad_name = view
        .literal_str("name")
        .filter(|name| !name.starts_with("alias/") || name.starts_with("alias/aws/"))
        .map(|name| {
            InputIssue::new(
                "name",
                format!("`{name}` is not an alias name cairn can create"),
                "start it with `alias/` (not `alias/aws/`, which AWS keeps for itself)",
            )
        });
    let mut found = required(view, &["name", "target_key_id"]);
    found.extend(bad_name);
    found
}
