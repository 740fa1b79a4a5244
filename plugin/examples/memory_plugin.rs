//! A provider plugin serving the in-memory cloud, for the protocol's own tests: what a
//! plugin's `main` looks like. Run by `tests/plugin.rs`, never by hand.
//!
//! Resources whose name starts with `together-` are created only once five such creates are
//! in flight at once (so a client that sent calls one at a time would never see an answer),
//! creating `exit-now` ends the process without answering, as a crash would, and creating
//! `panic-now` panics inside the provider.

// A binary: it reports on its own standard streams.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;

use async_trait::async_trait;
use cairn_engine::memory::MemoryCloud;
use cairn_engine::{
    Observed, Outputs, Provider, ProviderBinding, ProviderError, RecordedResource, ResourceRequest,
};
use cairn_plugin::protocol::Handshake;

/// The in-memory cloud with the two behaviours the tests need.
struct TestCloud {
    cloud: MemoryCloud,
    together: tokio::sync::Barrier,
}

#[async_trait]
impl Provider for TestCloud {
    async fn check_bindings(&self, bindings: &[ProviderBinding]) -> Result<(), ProviderError> {
        self.cloud.check_bindings(bindings).await
    }

    async fn create(&self, request: &ResourceRequest) -> Result<Outputs, ProviderError> {
        assert!(request.name != "panic-now", "the provider panics on `panic-now`");
        if request.name == "exit-now" {
            std::process::exit(3);
        }
        if request.name.starts_with("together-") {
            self.together.wait().await;
        }
        self.cloud.create(request).await
    }

    async fn read_data_source(&self, request: &ResourceRequest) -> Result<Outputs, ProviderError> {
        self.cloud.read_data_source(request).await
    }

    async fn update(
        &self,
        request: &ResourceRequest,
        prior: &RecordedResource,
    ) -> Result<Outputs, ProviderError> {
        self.cloud.update(request, prior).await
    }

    async fn delete(
        &self,
        request: &ResourceRequest,
        prior: &RecordedResource,
    ) -> Result<(), ProviderError> {
        self.cloud.delete(request, prior).await
    }

    async fn read(
        &self,
        request: &ResourceRequest,
        prior: &RecordedResource,
    ) -> Result<Option<Observed>, ProviderError> {
        self.cloud.read(request, prior).await
    }

    async fn find_owned(
        &self,
        request: &ResourceRequest,
        excluding: Option<&str>,
    ) -> Result<Option<Outputs>, ProviderError> {
        self.cloud.find_owned(request, excluding).await
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let handshake =
        Handshake { protocol: 0, name: "memory".into(), version: env!("CARGO_PKG_VERSION").into() };
    let served = cairn_plugin::serve(tokio::io::stdin(), tokio::io::stdout(), handshake, |_| {
        let cloud = TestCloud { cloud: MemoryCloud::new(), together: tokio::sync::Barrier::new(5) };
        Ok(Arc::new(cloud) as Arc<dyn Provider>)
    })
    .await;
    match served {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
