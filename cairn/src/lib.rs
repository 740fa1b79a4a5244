//! Infrastructure as code in plain Rust. A program implements [`Program`]: a typed stack
//! config, an optional check of it, and a function that declares resources into a
//! [`Stack`]. Its `main` hands it to [`run`] and gets every command of cairn (`plan`,
//! `apply`, `destroy`, `refresh`, `graph`) with their flags, the state, the policies and the
//! AWS provider plugin. This is the only crate a program names.
//!
//! ```
//! use cairn::aws::Account;
//! use cairn::aws::ec2::{Subnet, Vpc};
//! use cairn::{Program, Stack};
//!
//! struct Network;
//!
//! #[derive(serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct NetworkConfig {
//!     account_id: String,
//!     region: String,
//!     cidr: String,
//! }
//!
//! impl Program for Network {
//!     type Config = NetworkConfig;
//!     type Error = std::convert::Infallible;
//!
//!     fn name(&self) -> &str {
//!         "network"
//!     }
//!
//!     fn declare(&self, stack: &Stack, config: &NetworkConfig) {
//!         let main = stack.provider(Account::new("main", &config.account_id, &config.region));
//!         let vpc = main.add(Vpc::new("vpc").cidr_block(&config.cidr));
//!         stack.export("VpcId", vpc.id());
//!     }
//! }
//!
//! // fn main() -> std::process::ExitCode { cairn::run(&Network) }
//! # let config = NetworkConfig { account_id: "000000000000".into(), region: "local-1".into(), cidr: "10.0.0.0/16".into() };
//! # let plan = cairn::testing::plan_declared(&Network, &config).expect("plans");
//! # assert_eq!(plan.summary().add, 1);
//! ```

pub use cairn_cli::{Command, ConfigProblem, Program, run, run_command};
pub use cairn_dsl::{
    Binding, Declare, IntoInput, Output, OutputsOf, Parts, Resource, Stack, TAGS, aws, interpolate,
    json_document, json_template, list, object, policy, secret, tags,
};
pub use cairn_engine::{
    Input, Plan, PolicyRule, PolicySettings, ProviderBinding, Severity, StackSpec, Waiver,
};

#[doc = include_str!("../../docs/writing-a-program.md")]
pub mod guide {}

/// Planning a program offline, for its tests: no state, no cloud, nothing written.
pub mod testing {
    use std::path::Path;

    use crate::{Plan, Program, StackSpec};

    pub use cairn_cli::declare_checked;

    /// Why a program could not be planned.
    pub type Error = Box<dyn std::error::Error + Send + Sync>;

    /// The plan of `program` with `config` against an empty state: what a first `apply`
    /// creates. Validation and the program's policies run as they do in `plan`.
    pub fn plan_declared<P: Program>(program: &P, config: &P::Config) -> Result<Plan, Error> {
        plan_spec(&declare_checked(program, config)?)
    }

    /// The plan of a declared stack against an empty state.
    pub fn plan_spec(spec: &StackSpec) -> Result<Plan, Error> {
        Ok(cairn_engine::plan(spec, &cairn_engine::Snapshot::default())?)
    }

    /// The plan of `program` with the stack config file at `path` (and no environment
    /// overrides) against an empty state.
    pub fn plan_config<P: Program>(program: &P, path: &Path) -> Result<Plan, Error> {
        let config: P::Config = cairn_cli::config::load(path, &[])?;
        plan_declared(program, &config)
    }

    /// `plan` rendered as text, as `plan` prints it without colour.
    pub fn render(plan: &Plan) -> String {
        cairn_engine::render_plan(plan, cairn_engine::RenderOptions { color: false })
    }
}
