//! The programs cairn ships, by name: each reads its own stack config and fills a stack.

use std::path::Path;

use cairn_dsl::Stack;
use cairn_engine::StackSpec;
use thiserror::Error;

use crate::config::{self, ConfigError};
use crate::peering;

/// Why a program could not be declared.
#[derive(Debug, Error)]
pub enum ProgramError {
    /// No program has that name.
    #[error("there is no program called `{name}`: choose one of {}", PROGRAMS.join(", "))]
    UnknownProgram {
        /// The name asked for.
        name: String,
    },
    /// Its config could not be loaded.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// The names of the programs, the default first.
pub const PROGRAMS: &[&str] = &[peering::NAME];

/// Runs program `name` with the config at `config_path` (plus environment `overrides`) and
/// returns what it declared.
pub fn declare(
    name: &str,
    config_path: &Path,
    overrides: &[(String, String)],
) -> Result<StackSpec, ProgramError> {
    match name {
        peering::NAME => {
            let config: peering::PeeringConfig = config::load(config_path, overrides)?;
            peering::check(&config, config_path)?;
            let stack = Stack::new(&config.stack);
            peering::declare(&stack, &config);
            Ok(stack.spec())
        }
        other => Err(ProgramError::UnknownProgram { name: other.to_owned() }),
    }
}
