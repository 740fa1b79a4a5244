//! The AWS provider of cairn: implements [`cairn_engine::Provider`] through the official
//! aws-sdk-rust clients. It is the only crate of the workspace that links an aws-sdk crate.
//!
//! Each provider binding (an account in a region) gets its own clients: account A from the
//! default credential chain, other accounts by assuming a deployer role
//! (`deployer_role_arn` in the binding's settings). `endpoint_url` sends every client to a
//! local emulator, with path-style S3 addressing. Every resource is tagged with its URN
//! (`cairn:urn`) or given a deterministic name, so an interrupted create is found again.

mod clients;
mod counter;
mod errors;
mod resources;

use async_trait::async_trait;
use cairn_engine::{
    Observed, Outputs, Provider, ProviderBinding, ProviderError, RecordedResource, ResourceRequest,
};

pub use clients::{Clients, ProviderOptions, StaticCredentials};
pub use counter::CallCounts;
pub use resources::OWNERSHIP_TAG;

use clients::ClientCache;
use counter::CallCounter;
use resources::{Context, Handler};
use serde_json::Value;

/// The AWS provider.
#[derive(Debug)]
pub struct AwsProvider {
    clients: ClientCache,
    counter: CallCounter,
}

impl AwsProvider {
    /// A provider that reaches AWS (or the emulator at `options.endpoint_url`).
    pub fn new(options: ProviderOptions) -> Self {
        let counter = CallCounter::default();
        AwsProvider { clients: ClientCache::new(options, counter.clone()), counter }
    }

    /// The SDK calls made so far.
    pub fn call_counts(&self) -> CallCounts {
        self.counter.counts()
    }

    /// The clients of `binding`, for reading AWS back in tests and tools.
    pub async fn clients(
        &self,
        binding: &ProviderBinding,
    ) -> Result<std::sync::Arc<Clients>, ProviderError> {
        self.clients.clients(binding).await
    }

    /// The handler and clients for `request`.
    async fn prepare(
        &self,
        request: &ResourceRequest,
    ) -> Result<(&'static dyn Handler, std::sync::Arc<Clients>), ProviderError> {
        let handler = resources::handler(&request.type_token).ok_or_else(|| {
            ProviderError::new(format!(
                "cairn-aws does not know the resource type {}: upgrade cairn or remove the resource",
                request.type_token
            ))
        })?;
        Ok((handler, self.clients.clients(&request.binding).await?))
    }
}

/// A handler's result, its error prefixed with the resource it is about.
fn in_context<T>(request: &ResourceRequest, result: errors::Result<T>) -> Result<T, ProviderError> {
    result.map_err(|error| {
        ProviderError::from(errors::AwsError {
            message: format!("{} `{}`: {}", request.type_token, request.name, error.message),
            ..error
        })
    })
}

/// Calls `$method` of the request's handler with its context (and any further arguments).
macro_rules! dispatch {
    ($provider:expr, $request:expr, $method:ident $(, $argument:expr)*) => {{
        let (handler, clients) = $provider.prepare($request).await?;
        let replaced_id = $request.replacing.as_deref();
        let cx = Context { clients: &clients, request: $request, replaced_id };
        in_context($request, handler.$method(&cx $(, $argument)*).await)
    }};
}

#[async_trait]
impl Provider for AwsProvider {
    async fn check_bindings(&self, bindings: &[ProviderBinding]) -> Result<(), ProviderError> {
        for binding in bindings {
            let clients = self.clients.clients(binding).await?;
            let retries = self.clients.retries(clients::REACHABILITY_ATTEMPTS);
            let override_retries = aws_sdk_sts::config::Builder::default().retry_config(retries);
            let call =
                clients.sts.get_caller_identity().customize().config_override(override_retries);
            let identity = call.send().await.map_err(|error| {
                ProviderError::from(errors::sdk_error(
                    &format!("checking the credentials of binding `{}`", binding.name),
                    error,
                ))
            })?;
            let actual = identity.account().unwrap_or_default();
            if actual != binding.account_id {
                return Err(ProviderError::new(format!(
                    "binding `{}` must act in account {} but its credentials act in account \
                     {actual} ({}): fix the account id or the deployer role in the stack config, \
                     or the credentials",
                    binding.name,
                    binding.account_id,
                    identity.arn().unwrap_or_default()
                )));
            }
        }
        Ok(())
    }

    async fn create(&self, request: &ResourceRequest) -> Result<Outputs, ProviderError> {
        dispatch!(self, request, create)
    }

    async fn read_data_source(&self, request: &ResourceRequest) -> Result<Outputs, ProviderError> {
        dispatch!(self, request, read_data_source)
    }

    async fn update(
        &self,
        request: &ResourceRequest,
        prior: &RecordedResource,
    ) -> Result<Outputs, ProviderError> {
        dispatch!(self, request, update, prior)
    }

    async fn delete(
        &self,
        request: &ResourceRequest,
        prior: &RecordedResource,
    ) -> Result<(), ProviderError> {
        dispatch!(self, request, delete, prior)
    }

    async fn read(
        &self,
        request: &ResourceRequest,
        prior: &RecordedResource,
    ) -> Result<Option<Observed>, ProviderError> {
        dispatch!(self, request, read, prior)
    }

    async fn find_owned(
        &self,
        request: &ResourceRequest,
        excluding: Option<&str>,
    ) -> Result<Option<Outputs>, ProviderError> {
        let (handler, clients) = self.prepare(request).await?;
        let replaced_id = excluding.or(request.replacing.as_deref());
        let cx = Context { clients: &clients, request, replaced_id };
        let found = in_context(request, handler.find_owned(&cx).await)?;
        // A handler that finds by name can only find the recorded resource itself, which a
        // create-first replacement never shares a name with: never adopt it as its own
        // replacement.
        Ok(found.filter(|outputs| !cx.is_replaced(outputs.get("id").and_then(Value::as_str))))
    }
}
