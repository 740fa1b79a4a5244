//! `aws:secretsmanager/SecretValue`: a data source that reads an existing secret's current
//! value. cairn never creates, changes or deletes the secret.

use async_trait::async_trait;
use cairn_dsl::aws::secretsmanager::SecretValueArgs;
use cairn_engine::value::secret;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use crate::errors::{AwsError, Result, required, sdk_error, unless_gone};
use crate::resources::{Context, Handler, observed_inputs, outputs, recorded_id};

const TYPE: &str = "aws:secretsmanager/SecretValue";

/// Reads secrets.
pub struct SecretValueHandler;

#[async_trait]
impl Handler for SecretValueHandler {
    /// The engine reads data sources instead of creating them; a create is a bug.
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        Err(AwsError::new(format!(
            "{} is a data source: cairn reads an existing secret and never creates one; \
             report this as a bug",
            cx.request.type_token
        )))
    }

    /// The secret's ARN, name and current string value (wrapped as sensitive).
    async fn read_data_source(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: SecretValueArgs = cx.args()?;
        let id = required(args.secret_id.as_deref(), TYPE, "secret_id")?;
        let found = cx.clients.secrets.get_secret_value().secret_id(id).send().await;
        let found = found.map_err(|error| {
            let error = sdk_error(&format!("reading secret {id}"), error);
            if !error.is_not_found() {
                return error;
            }
            AwsError {
                message: format!(
                    "{}: create the secret in account {} ({}) first; cairn never creates secrets",
                    error.message,
                    cx.account(),
                    cx.region()
                ),
                ..error
            }
        })?;
        let incomplete =
            |what: &str| AwsError::new(format!("AWS returned secret {id} without its {what}"));
        let arn = found.arn().ok_or_else(|| incomplete("ARN"))?;
        let name = found.name().ok_or_else(|| incomplete("name"))?;
        let value = found.secret_string().ok_or_else(|| {
            AwsError::new(format!("secret {id} holds binary data: cairn reads string secrets only"))
        })?;
        Ok(outputs([
            ("id", json!(arn)),
            ("arn", json!(arn)),
            ("name", json!(name)),
            ("value", secret(json!(value))),
        ]))
    }

    /// Forgetting a data source makes no call: the secret stays.
    async fn delete(&self, _cx: &Context<'_>, _prior: &RecordedResource) -> Result<()> {
        Ok(())
    }

    /// The secret's identity (not its value); `None` when it is gone or scheduled for deletion.
    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let arn = recorded_id(prior)?;
        let found = cx.clients.secrets.describe_secret().secret_id(arn).send().await;
        let found = found.map_err(|error| sdk_error(&format!("reading secret {arn}"), error));
        let Some(found) = unless_gone(found)?.filter(|found| found.deleted_date().is_none()) else {
            return Ok(None);
        };
        let asked: SecretValueArgs = cx.prior_args(prior)?;
        let inputs = observed_inputs([("secret_id", asked.secret_id.map(|id| json!(id)))]);
        let outputs = outputs([
            ("id", json!(arn)),
            ("arn", json!(found.arn().unwrap_or(arn))),
            ("name", json!(found.name())),
        ]);
        Ok(Some(Observed { inputs, outputs }))
    }

    /// A data source is never created, so there is nothing of it to find.
    async fn find_owned(&self, _cx: &Context<'_>) -> Result<Option<Outputs>> {
        Ok(None)
    }
}
