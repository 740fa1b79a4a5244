//! AWS Secrets Manager look-ups (data sources: read, never created).

use cairn_engine::{InputIssue, ResourceView};

use crate::checks::required;
use crate::resource;

resource! {
    /// The current value of an existing secret (a data source: cairn reads it at apply and
    /// never creates, changes or deletes it). The value is sensitive: redacted in plans and
    /// logs, encrypted in the state.
    SecretValue(SecretValueArgs, SecretValueOutputs) "aws:secretsmanager/SecretValue" {
        taggable: false,
        create_before_delete: true,
        data_source: true,
        validate: validate_secret_value,
        inputs {
            /// The secret's name or ARN.
            secret_id: String [force_new],
        }
        outputs {
            /// The secret's ARN.
            id: String,
            /// The secret's ARN.
            arn: String,
            /// The secret's name.
            name: String,
            /// The secret's current string value (sensitive).
            value: String,
        }
    }
}

fn validate_secret_value(view: &ResourceView<'_>) -> Vec<InputIssue> {
    required(view, &["secret_id"])
}
