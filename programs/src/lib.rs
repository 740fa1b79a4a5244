//! The programs cairn ships, and the command-line layer of the `plan`, `apply`, `destroy`
//! and `graph` binaries.
//!
//! - [`peering`]: secure cross-account VPC peering (the default program).
//! - [`registry`]: programs by name.
//! - [`config`]: the stack config file and its environment overrides.
//! - [`cli`]: the binaries' code, the only code that prints or reads the environment.

pub mod cli;
pub mod config;
pub mod peering;
pub mod registry;
