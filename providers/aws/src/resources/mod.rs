//! One handler per resource type, and the registry that finds it by type token.

pub mod cloudwatch;
pub mod config;
pub mod ec2;
pub mod iam;
pub mod kms;
pub mod logs;
pub mod s3;
pub mod secretsmanager;

use std::collections::BTreeMap;

use async_trait::async_trait;
use cairn_engine::{Observed, Outputs, RecordedResource, ResourceRequest};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::clients::Clients;
use crate::errors::{AwsError, Result};

/// The tag that carries a resource's URN, so an interrupted create can be found again.
pub const OWNERSHIP_TAG: &str = "cairn:urn";

/// What a handler works with: the binding's clients and the request.
pub struct Context<'a> {
    /// The clients of the resource's binding.
    pub clients: &'a Clients,
    /// The request.
    pub request: &'a ResourceRequest,
}

impl Context<'_> {
    /// The request's inputs as the type's argument struct.
    pub fn args<T: DeserializeOwned>(&self) -> Result<T> {
        parse_args(&self.request.type_token, &self.request.inputs)
    }

    /// The recorded inputs of `prior` as the type's argument struct.
    pub fn prior_args<T: DeserializeOwned>(&self, prior: &RecordedResource) -> Result<T> {
        parse_args(&self.request.type_token, &prior.inputs)
    }

    /// The URN, for the ownership tag.
    pub fn urn(&self) -> &str {
        self.request.urn.as_str()
    }

    /// The tags to put on the resource: the program's, plus the ownership tag.
    pub fn tags_with_ownership(
        &self,
        tags: &Option<BTreeMap<String, String>>,
    ) -> BTreeMap<String, String> {
        let mut all = tags.clone().unwrap_or_default();
        all.insert(OWNERSHIP_TAG.to_owned(), self.urn().to_owned());
        all
    }

    /// The account of the binding.
    pub fn account(&self) -> &str {
        &self.clients.binding.account_id
    }

    /// The region of the binding.
    pub fn region(&self) -> &str {
        &self.clients.binding.region
    }
}

fn parse_args<T: DeserializeOwned>(type_token: &str, inputs: &Value) -> Result<T> {
    serde_json::from_value(inputs.clone()).map_err(|error| {
        AwsError::new(format!(
            "the inputs of this {type_token} do not match its arguments ({error}): \
             the program and cairn-aws disagree; rebuild both from the same version"
        ))
    })
}

/// The id recorded for a resource.
pub fn recorded_id(prior: &RecordedResource) -> Result<&str> {
    prior
        .outputs
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| AwsError::new("the state records no `id` for this resource: remove it from the state and import it again"))
}

/// Outputs from name/value pairs.
pub fn outputs<'a>(pairs: impl IntoIterator<Item = (&'a str, Value)>) -> Outputs {
    pairs.into_iter().map(|(name, value)| (name.to_owned(), value)).collect()
}

/// Inputs read back from the cloud, leaving out what is not set.
pub fn observed_inputs<'a>(
    pairs: impl IntoIterator<Item = (&'a str, Option<Value>)>,
) -> serde_json::Map<String, Value> {
    pairs
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name.to_owned(), value)))
        .collect()
}

/// The calls for one resource type.
#[async_trait]
pub trait Handler: Send + Sync {
    /// Creates the resource; returns its outputs.
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs>;

    /// Updates it in place. Types whose every input forces replacement keep this default.
    async fn update(&self, cx: &Context<'_>, _prior: &RecordedResource) -> Result<Outputs> {
        Err(AwsError::new(format!(
            "{} cannot be changed in place: the plan should have replaced it; report this as a bug",
            cx.request.type_token
        )))
    }

    /// Deletes it; succeeds when it is already gone.
    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()>;

    /// Reads it back, or `None` when it is gone.
    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>>;

    /// Finds the resource carrying this URN's ownership tag (or deterministic name).
    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>>;

    /// Reads a data source. Only data source types implement it.
    async fn read_data_source(&self, cx: &Context<'_>) -> Result<Outputs> {
        Err(AwsError::new(format!("{} is not a data source", cx.request.type_token)))
    }
}

/// The handler of `type_token`, if cairn-aws knows the type.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    let service = type_token.strip_prefix("aws:")?.split('/').next()?;
    match service {
        "ec2" => ec2::handler(type_token),
        "iam" => iam::handler(type_token),
        "s3" => s3::handler(type_token),
        "kms" => kms::handler(type_token),
        "secretsmanager" => secretsmanager::handler(type_token),
        "cloudwatch" => cloudwatch::handler(type_token),
        "logs" => logs::handler(type_token),
        "config" => config::handler(type_token),
        _ => None,
    }
}
