//! What travels between a program and its provider plugin: one JSON object per line.
//!
//! The program writes [`Request`]s to the plugin's standard input; the plugin writes one
//! [`Response`] per request to its standard output, in any order, carrying the request's
//! id. The first request is always [`Call::Configure`], and the plugin answers it before any
//! other. The plugin's standard error is its log, shown to the user as it is.
//!
//! Requests carry resource inputs with their secrets revealed: the protocol is a pipe
//! between two processes of the same user, never a file or a log.

use cairn_engine::{ProviderBinding, ProviderError, RecordedResource, ResourceRequest};
use serde::{Deserialize, Serialize};

/// The version of this protocol. A plugin answers [`Call::Configure`] with the version it
/// speaks, and the program refuses one that differs.
pub const PROTOCOL_VERSION: u32 = 1;

/// One call from the program to the plugin.
#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    /// Chosen by the program, unique among the calls in flight; the response repeats it.
    pub id: u64,
    /// What is asked.
    #[serde(flatten)]
    pub call: Call,
}

/// The calls: [`Call::Configure`] first, then those of the engine's `Provider` trait.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "method", content = "params", rename_all = "snake_case")]
pub enum Call {
    /// Sets the plugin up; answered with [`Handshake`].
    Configure(Configure),
    /// `Provider::check_bindings`; answered with null.
    CheckBindings {
        /// The bindings to check.
        bindings: Vec<ProviderBinding>,
    },
    /// `Provider::create`; answered with the outputs.
    Create {
        /// The resource.
        request: ResourceRequest,
    },
    /// `Provider::read_data_source`; answered with the outputs.
    ReadDataSource {
        /// The data source.
        request: ResourceRequest,
    },
    /// `Provider::update`; answered with the outputs.
    Update {
        /// The resource as declared.
        request: ResourceRequest,
        /// The resource as recorded.
        prior: RecordedResource,
    },
    /// `Provider::delete`; answered with null.
    Delete {
        /// The resource.
        request: ResourceRequest,
        /// The resource as recorded.
        prior: RecordedResource,
    },
    /// `Provider::read`; answered with the observed resource, or null when it is gone.
    Read {
        /// The resource.
        request: ResourceRequest,
        /// The resource as recorded.
        prior: RecordedResource,
    },
    /// `Provider::find_owned`; answered with the outputs, or null when nothing is found.
    FindOwned {
        /// The resource.
        request: ResourceRequest,
        /// The id the state records at this address, never to be returned.
        #[serde(default)]
        excluding: Option<String>,
    },
}

/// How the program sets the plugin up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Configure {
    /// The protocol version the program speaks.
    pub protocol: u32,
    /// Send every cloud client to this endpoint (a local emulator).
    pub endpoint_url: Option<String>,
    /// How much the plugin logs, as `-v` was counted on the program's command line.
    pub verbosity: u8,
}

/// The plugin's answer to [`Call::Configure`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handshake {
    /// The protocol version the plugin speaks.
    pub protocol: u32,
    /// The plugin's name, for messages (`aws`).
    pub name: String,
    /// The plugin's version.
    pub version: String,
}

/// One answer from the plugin.
#[derive(Debug, Serialize, Deserialize)]
pub struct Response {
    /// The id of the request answered.
    pub id: u64,
    /// The answer.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A call's result: a JSON value whose shape the call names, or the provider's error.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The call succeeded.
    Ok(serde_json::Value),
    /// The call failed.
    Error(ProviderError),
}
