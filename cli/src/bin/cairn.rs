//! `cairn`: writes a new program crate (`cairn new DIR`), and runs the commands of the
//! program in the current directory (`cairn plan` is `cargo run --quiet -- plan`).

// A binary: it reports on its own standard streams.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use cairn_cli::plugins::{cairn_checkout, target_dir_of};
use cairn_cli::scaffold::{Scaffold, name_for};
use clap::{Parser, Subcommand};

/// Infrastructure as code in plain Rust.
#[derive(Debug, Parser)]
#[command(name = "cairn", version)]
struct Cli {
    #[command(subcommand)]
    command: Top,
}

#[derive(Debug, Subcommand)]
enum Top {
    /// Writes a new program crate into DIR (missing or empty): a typed config, a VPC, a
    /// subnet and a KMS-encrypted bucket, an offline test and a README.
    New {
        /// Where to write it; its last component names the crate unless --name does.
        dir: PathBuf,
        /// The crate's name.
        #[arg(long)]
        name: Option<String>,
        /// Give the crate a target directory of its own instead of sharing the cairn
        /// checkout's (its first build then compiles cairn's dependencies once more).
        #[arg(long)]
        own_target_dir: bool,
    },
    /// Any other command (plan, apply, destroy, refresh, graph) runs the program in the
    /// current directory with it: `cargo run --quiet -- COMMAND ARGS`.
    #[command(external_subcommand)]
    Program(Vec<String>),
}

fn main() -> ExitCode {
    cairn_plugin::init_logging(0);
    let result = match Cli::parse().command {
        Top::New { dir, name, own_target_dir } => new(dir, name, own_target_dir),
        Top::Program(arguments) => run_program(&arguments),
    };
    result.unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::FAILURE
    })
}

/// `cairn new`.
fn new(dir: PathBuf, name: Option<String>, own_target_dir: bool) -> anyhow::Result<ExitCode> {
    let checkout = cairn_checkout().context(
        "the cairn checkout this `cairn` was built from is gone: run `cairn new` from a checkout",
    )?;
    let name = match name {
        Some(name) => name,
        None => name_for(&dir)?,
    };
    let shared_target_dir = if own_target_dir { None } else { Some(target_dir_of(&checkout)?) };
    let lock_file = std::fs::read(checkout.join("Cargo.lock")).ok();
    let scaffold =
        Scaffold { dir: dir.clone(), name, cairn_checkout: checkout, shared_target_dir, lock_file };
    let written = scaffold.write()?;
    println!("Wrote the program `{}` to {}:", scaffold.name, dir.display());
    for path in &written {
        println!("  {}", path.display());
    }
    println!(
        "\nNext:\n  cd {}\n  cargo run -- plan        # or `cairn plan`\n  cargo test",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `cairn plan ...`: the program in the current directory, through cargo.
fn run_program(arguments: &[String]) -> anyhow::Result<ExitCode> {
    if !std::path::Path::new("Cargo.toml").is_file() {
        bail!(
            "there is no program here (no Cargo.toml in the current directory): cd into a \
             program's crate, or write one with `cairn new DIR`"
        );
    }
    let status = cairn_cli::plugins::cargo()
        .args(["run", "--quiet", "--"])
        .args(arguments)
        .status()
        .context("cannot run cargo: install Rust to run cairn programs")?;
    Ok(status
        .code()
        .and_then(|code| u8::try_from(code).ok())
        .map_or(ExitCode::FAILURE, ExitCode::from))
}
