//! Counts the SDK calls the provider makes, so tests (and the CLI's logs) can prove that bad
//! input made no call at all, and a wrong account made no mutating call.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// How many SDK calls were made, and which.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallCounts {
    /// Every call, in order, as `service:Operation`.
    pub calls: Vec<String>,
    /// How many of them can change something (anything not Describe/Get/List/Head).
    pub mutating: usize,
}

/// An SDK interceptor that records every call; clones share the record.
#[derive(Clone, Debug, Default)]
pub struct CallCounter {
    calls: Arc<Mutex<Vec<String>>>,
    mutating: Arc<AtomicUsize>,
}

impl CallCounter {
    /// The calls so far.
    pub fn counts(&self) -> CallCounts {
        let calls = self.calls.lock().map(|calls| calls.clone()).unwrap_or_default();
        CallCounts { calls, mutating: self.mutating.load(Ordering::SeqCst) }
    }
}

/// Whether an operation only reads.
fn is_read_only(operation: &str) -> bool {
    ["Describe", "Get", "List", "Head", "Lookup"].iter().any(|prefix| operation.starts_with(prefix))
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "cairn-call-counter"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|metadata| (metadata.service().to_owned(), metadata.name().to_owned()))
            .unwrap_or_default();
        if !is_read_only(&operation) {
            self.mutating.fetch_add(1, Ordering::SeqCst);
        }
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(format!("{service}:{operation}"));
        }
        Ok(())
    }
}
