//! The `Provider` trait: everything the engine knows about a cloud comes through it.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

use crate::model::{ProviderBinding, Urn};

/// What a provider is asked to act on.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResourceRequest {
    /// The resource's identity; providers tag what they create with it (`cairn:urn`).
    pub urn: Urn,
    /// The logical name.
    pub name: String,
    /// The type token, for example `aws:ec2/Vpc`.
    pub type_token: String,
    /// Where it lives.
    pub binding: ProviderBinding,
    /// The inputs, fully known and with secrets revealed: never log them whole.
    pub inputs: Value,
    /// For the create of a create-first replacement, the id of the resource it replaces: it
    /// carries the same ownership tag, and a create looking for what an earlier attempt made
    /// must pass over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacing: Option<String>,
}

/// A resource as it was recorded before this operation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecordedResource {
    /// The inputs last applied (secrets revealed).
    pub inputs: Value,
    /// The outputs last returned (always with `id`).
    pub outputs: Value,
}

/// The outputs a provider returns: always `id`, and the type's other computed outputs.
/// Sensitive outputs are wrapped with [`crate::value::secret`].
pub type Outputs = Map<String, Value>;

/// A resource as the cloud has it now.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// Its inputs as the cloud reports them (the properties the provider can read back).
    pub inputs: Map<String, Value>,
    /// Its outputs.
    pub outputs: Outputs,
}

/// How a provider call failed.
#[derive(Clone, Debug, PartialEq, Eq, Error, Serialize, Deserialize)]
#[error("{message}")]
pub struct ProviderError {
    /// What went wrong, and what to do.
    pub message: String,
    /// Whether the resource is known to be absent (a read or delete of something gone).
    pub not_found: bool,
}

impl ProviderError {
    /// A failure described by `message`.
    pub fn new(message: impl Into<String>) -> Self {
        ProviderError { message: message.into(), not_found: false }
    }

    /// The resource does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        ProviderError { message: message.into(), not_found: true }
    }
}

/// A cloud the engine can act on. Implementations must be safe to call concurrently: the
/// engine runs up to `--parallelism` calls at once.
#[async_trait]
pub trait Provider: Send + Sync {
    /// Checks, before any change, that every binding reaches the account it names.
    async fn check_bindings(&self, bindings: &[ProviderBinding]) -> Result<(), ProviderError>;

    /// Creates the resource and returns its outputs.
    async fn create(&self, request: &ResourceRequest) -> Result<Outputs, ProviderError>;

    /// Reads a data source (something that exists outside the stack) and returns its outputs.
    async fn read_data_source(&self, request: &ResourceRequest) -> Result<Outputs, ProviderError>;

    /// Changes the resource in place from `prior` to `request.inputs`.
    async fn update(
        &self,
        request: &ResourceRequest,
        prior: &RecordedResource,
    ) -> Result<Outputs, ProviderError>;

    /// Deletes the resource. Deleting something already gone succeeds; forgetting a data
    /// source makes no call.
    async fn delete(
        &self,
        request: &ResourceRequest,
        prior: &RecordedResource,
    ) -> Result<(), ProviderError>;

    /// Reads the resource back as the cloud has it now, or `None` when it is gone.
    async fn read(
        &self,
        request: &ResourceRequest,
        prior: &RecordedResource,
    ) -> Result<Option<Observed>, ProviderError>;

    /// Finds a resource that carries the ownership tag of `request.urn` (or its
    /// deterministic name): one whose create was interrupted before the state recorded it.
    /// `excluding` is the id of the resource the state already records at this address (the
    /// one a create-first replacement replaces, which carries the same tag): never return it.
    async fn find_owned(
        &self,
        request: &ResourceRequest,
        excluding: Option<&str>,
    ) -> Result<Option<Outputs>, ProviderError>;
}
