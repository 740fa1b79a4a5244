//! IAM roles, inline policies and managed policy attachments.

use cairn_engine::{InputIssue, ResourceView};

use crate::checks::{check_range, issues, json_object_text, required};
use crate::resource;

resource! {
    /// An IAM role. Its name is unique in the account, so a replacement deletes the old role
    /// first; its inline policies and attachments are separate resources.
    Role(RoleArgs, RoleOutputs) "aws:iam/Role" {
        taggable: true,
        create_before_delete: false,
        validate: validate_role,
        inputs {
            /// The role's name, unique in the account; include the environment suffix.
            name: String [force_new, name],
            /// The trust policy (a JSON document): who may assume the role.
            assume_role_policy: String,
            /// The longest session, in seconds (3600 to 43200).
            max_session_duration: i64,
            /// What the role is for.
            description: String,
            /// The role's path, `/` or `/a/b/`.
            path: String [force_new],
        }
        outputs {
            /// The role's name.
            id: String,
            /// The role's ARN.
            arn: String,
            /// The role's stable unique id (`AROA…`).
            unique_id: String,
        }
    }
}

fn validate_role(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(view, &["name", "assume_role_policy"]);
    found.extend(issues([
        check_name(view, "name", 64),
        json_object_text(view, "assume_role_policy"),
        check_range(view, "max_session_duration", 3600..=43200),
        view.literal_str("path")
            .filter(|path| !(path.starts_with('/') && path.ends_with('/')))
            .map(|path| {
                InputIssue::new(
                    "path",
                    format!("`{path}` does not start and end with `/`"),
                    "write `/` or a path such as `/cairn/`",
                )
            }),
    ]));
    found
}

resource! {
    /// An inline policy of an IAM role.
    RolePolicy(RolePolicyArgs, RolePolicyOutputs) "aws:iam/RolePolicy" {
        taggable: false,
        create_before_delete: false,
        validate: validate_role_policy,
        inputs {
            /// The role's name.
            role: String [force_new],
            /// The policy's name, unique among the role's inline policies.
            name: String [force_new, name],
            /// The policy (a JSON document).
            policy: String,
        }
        outputs {
            /// `<role>:<name>`.
            id: String,
        }
    }
}

fn validate_role_policy(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(view, &["role", "name", "policy"]);
    found.extend(issues([check_name(view, "name", 128), json_object_text(view, "policy")]));
    found
}

resource! {
    /// Attaches a managed policy to an IAM role.
    RolePolicyAttachment(RolePolicyAttachmentArgs, RolePolicyAttachmentOutputs) "aws:iam/RolePolicyAttachment" {
        taggable: false,
        create_before_delete: false,
        validate: validate_attachment,
        inputs {
            /// The role's name.
            role: String [force_new],
            /// The managed policy's ARN, for example
            /// `arn:aws:iam::aws:policy/service-role/AWS_ConfigRole`.
            policy_arn: String [force_new],
        }
        outputs {
            /// `<role>:<policy_arn>`.
            id: String,
        }
    }
}

fn validate_attachment(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let not_an_arn =
        view.literal_str("policy_arn").filter(|arn| !arn.starts_with("arn:")).map(|arn| {
            InputIssue::new(
                "policy_arn",
                format!("`{arn}` is not a policy ARN"),
                "give the policy's ARN, for example arn:aws:iam::aws:policy/ReadOnlyAccess",
            )
        });
    let mut found = required(view, &["role", "policy_arn"]);
    found.extend(not_an_arn);
    found
}

/// An issue when the literal IAM name in `property` is empty, longer than `longest` or has
/// characters IAM refuses.
fn check_name(view: &ResourceView<'_>, property: &str, longest: usize) -> Option<InputIssue> {
    let name = view.literal_str(property)?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    (name.is_empty() || name.len() > longest || !name.chars().all(allowed)).then(|| {
        InputIssue::new(
            property,
            format!("`{name}` is not a valid IAM name"),
            format!("use 1 to {longest} letters, digits and +=,.@_-"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::kms::{Alias, Key};
    use crate::aws::s3::Bucket;
    use crate::checks::testing::faults;

    #[test]
    fn obvious_mistakes_are_refused_before_any_call() {
        let trust = r#"{"Version":"2012-10-17","Statement":[]}"#;
        assert!(faults(Role::new("r").name("app-x1").assume_role_policy(trust)).is_empty());
        assert_eq!(faults(Role::new("r").assume_role_policy("{")), ["name", "assume_role_policy"]);
        let bad_role = Role::new("r").name("a b").assume_role_policy(trust).path("x");
        assert_eq!(
            faults(bad_role.max_session_duration(60_i64)),
            ["name", "max_session_duration", "path"]
        );
        assert_eq!(
            faults(RolePolicyAttachment::new("a").role("r").policy_arn("ReadOnly")),
            ["policy_arn"]
        );
        assert_eq!(faults(Bucket::new("b").bucket("Logs_1")), ["bucket"]);
        assert_eq!(
            faults(Bucket::new("b").bucket("logs-1").lifecycle_expiration_days(0_i64)),
            ["lifecycle_expiration_days"]
        );
        assert_eq!(
            faults(Key::new("k").deletion_window_in_days(3_i64)),
            ["deletion_window_in_days"]
        );
        assert_eq!(faults(Alias::new("a").name("alias/aws/s3").target_key_id("k")), ["name"]);
    }
}
