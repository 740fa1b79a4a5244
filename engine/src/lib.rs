//! The engine of cairn: the resource model, validation, the dependency graph, planning,
//! rendering, apply and destroy, and the [`Provider`] trait through which it reaches a cloud.
//!
//! A program fills a [`StackSpec`]; [`plan()`] compares it with a state [`Snapshot`] and
//! returns a [`Plan`], plain data; [`render_plan`] shows it; [`apply()`] executes it.
//!
//! ```
//! use cairn_engine::{plan, render_plan, RenderOptions, StackSpec, Snapshot};
//!
//! let stack = StackSpec::new("example");
//! let state = Snapshot::default();
//! let plan = plan(&stack, &state).expect("an empty stack is valid");
//! assert!(render_plan(&plan, RenderOptions::default()).contains("No changes."));
//! ```
//!
//! [`Snapshot`]: cairn_state::Snapshot

mod apply;
mod dot;
#[cfg(feature = "testing")]
pub mod memory;
mod model;
mod owned;
mod plan;
mod policy;
mod provider;
mod recover;
mod refresh;
mod render;
mod validate;
pub mod value;

pub use apply::{
    ApplyError, ApplyOptions, ApplyReport, Failure, NoProgress, Operation, OperationKind, Progress,
    Skipped, apply, check_fresh,
};
pub use cairn_state::{OperationKind as RunKind, Snapshot};
pub use dot::to_dot;
pub use model::{
    InputIssue, Move, PropertySpec, ProviderBinding, Resource, ResourceOptions, ResourceView,
    Schema, StackSpec, Urn, Validator, Waiver,
};
pub use owned::{AlreadyOwned, OwnedCheckError, find_already_owned, journal_for_adoption};
pub use plan::{
    Action, OutputChange, PLAN_FORMAT_VERSION, Plan, PlanError, Prior, PropertyChange, Step,
    Summary, plan, plan_destroy, recorded_bindings,
};
pub use policy::{
    Finding, PolicyContext, PolicyErrors, PolicyRule, PolicySettings, Severity, Violation,
    check_policies,
};
pub use provider::{Observed, Outputs, Provider, ProviderError, RecordedResource, ResourceRequest};
pub use recover::{RecoveryError, RecoveryReport, recover_interrupted};
pub use refresh::{
    Drift, DriftKind, DriftReport, PropertyDrift, ReadFailure, RefreshError, detect_drift,
    record_drift,
};
pub use render::{
    KNOWN_AFTER_APPLY, RenderOptions, SENSITIVE, drift_summary_line, render_drift, render_plan,
    summary_line,
};
pub use validate::{DeclarationError, DeclarationErrors, DependencyGraph, validate};
pub use value::{Input, OutputRef};
