//! A program: what a user writes. [`Program`] is the trait; [`ProgramSource`] is how the
//! commands run one (every `Program` is one), so tests can hand the commands a program with a
//! bug in it.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use cairn_dsl::Stack;
use cairn_engine::StackSpec;
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::config::{self, ConfigError};

/// A cairn program: a typed stack config and a function that declares resources from it.
/// Implement it and hand it to [`crate::run`] in `main` to get every command of cairn.
///
/// ```
/// use cairn_cli::Program;
/// use cairn_dsl::Stack;
///
/// /// One VPC whose CIDR block the config names.
/// struct Network;
///
/// #[derive(serde::Deserialize)]
/// struct NetworkConfig {
///     cidr: String,
/// }
///
/// impl Program for Network {
///     type Config = NetworkConfig;
///     type Error = std::convert::Infallible;
///
///     fn name(&self) -> &str {
///         "network"
///     }
///
///     fn declare(&self, stack: &Stack, config: &NetworkConfig) {
///         let _ = (stack, &config.cidr);
///     }
/// }
/// ```
pub trait Program {
    /// The stack config, read from the `--config` TOML file with environment overrides
    /// applied. Deny unknown fields (`#[serde(deny_unknown_fields)]`) so typos are refused.
    type Config: DeserializeOwned;
    /// What [`Program::check`] refuses a config with. `std::convert::Infallible` when the
    /// program has no checks of its own; [`ConfigProblem`] names a key and a fix.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The program's name: the default stack name, and how messages name the program.
    fn name(&self) -> &str;

    /// The stack's name, part of every resource's identity (URN). Defaults to
    /// [`Program::name`]; read it from the config to run one program as several stacks.
    fn stack_name(&self, config: &Self::Config) -> String {
        let _ = config;
        self.name().to_owned()
    }

    /// Checks what the config's types cannot (rules across fields). Runs before
    /// [`Program::declare`], before the state is opened and before any cloud call.
    fn check(&self, config: &Self::Config) -> Result<(), Self::Error> {
        let _ = config;
        Ok(())
    }

    /// Declares the program's resources, stack outputs and policies into `stack`.
    fn declare(&self, stack: &Stack, config: &Self::Config);
}

/// A problem with one config key, for [`Program::check`]: which key, what is wrong with it,
/// and what to do.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("`{key}` {problem}; fix: {fix}")]
pub struct ConfigProblem {
    /// The key at fault, as the config file writes it (`trading.account_id`).
    pub key: String,
    /// What is wrong, as the end of a sentence starting with the key (`is empty`).
    pub problem: String,
    /// What to do.
    pub fix: String,
}

impl ConfigProblem {
    /// The problem `problem` with `key`, fixed by `fix`.
    pub fn new(key: impl Into<String>, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        ConfigProblem { key: key.into(), problem: problem.into(), fix: fix.into() }
    }
}

/// Why a program declared nothing.
#[derive(Debug, Error)]
pub enum ProgramError {
    /// Its config could not be loaded.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Its config failed the program's own check.
    #[error("stack config {path}: {problem}")]
    Check {
        /// The config file.
        path: PathBuf,
        /// What the program's check said (part of this message, so not its source: the
        /// command line prints each cause once).
        problem: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The program panicked while declaring.
    #[error(
        "the program `{program}` panicked while declaring its resources: {message}; nothing was \
         planned or changed and the state is as it was: fix the program (the panic's location \
         is printed above)"
    )]
    Panicked {
        /// The program's name.
        program: String,
        /// The panic's message.
        message: String,
    },
}

/// Runs a program: what the commands need of one.
pub trait ProgramSource {
    /// The program's name, for messages.
    fn name(&self) -> &str;

    /// Loads the stack config at `config` with the environment's `overrides`, checks it and
    /// returns what the program declares from it.
    fn declare(
        &self,
        config: &Path,
        overrides: &[(String, String)],
    ) -> Result<StackSpec, ProgramError>;
}

impl<P: Program> ProgramSource for P {
    fn name(&self) -> &str {
        Program::name(self)
    }

    fn declare(
        &self,
        path: &Path,
        overrides: &[(String, String)],
    ) -> Result<StackSpec, ProgramError> {
        let config: P::Config = config::load(path, overrides)?;
        let declared =
            std::panic::catch_unwind(AssertUnwindSafe(|| declare_checked(self, &config)));
        let checked = declared.map_err(|panic| ProgramError::Panicked {
            program: Program::name(self).to_owned(),
            message: panic_message(panic.as_ref()),
        })?;
        checked.map_err(|problem| ProgramError::Check {
            path: path.to_owned(),
            problem: Box::new(problem),
        })
    }
}

/// What `program` declares from `config`, after its own check.
pub fn declare_checked<P: Program>(program: &P, config: &P::Config) -> Result<StackSpec, P::Error> {
    program.check(config)?;
    let stack = Stack::new(program.stack_name(config));
    program.declare(&stack, config);
    Ok(stack.spec())
}

/// The text a panic was raised with.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic without a message)".to_owned())
}
