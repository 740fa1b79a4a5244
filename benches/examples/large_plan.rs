//! A no-change plan of a large stack as its own process, to measure time and peak memory
//! from the outside (`/usr/bin/time -v`):
//!
//! ```text
//! cargo run --release -p cairn-benches --example large_plan -- write /tmp/cairn-100k 100000
//! /usr/bin/time -v target/release/examples/large_plan plan /tmp/cairn-100k 100000
//! ```

// A binary: it reports on its own standard streams.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::process::ExitCode;

use cairn_benches::{stack, write_applied_state};
use cairn_state::Store;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(dir), Some(count)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: large_plan write|plan DIR COUNT");
        return ExitCode::FAILURE;
    };
    let Ok(count) = count.parse::<usize>() else {
        eprintln!("COUNT must be a number, not `{count}`");
        return ExitCode::FAILURE;
    };
    let spec = stack(count);
    let outcome = match mode.as_str() {
        "write" => write_applied_state(Path::new(dir), &spec).map(|()| "written".to_owned()),
        _ => plan(Path::new(dir), &spec),
    };
    match outcome {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn plan(dir: &Path, spec: &cairn_engine::StackSpec) -> Result<String, Box<dyn std::error::Error>> {
    let snapshot = Store::read_snapshot(dir)?;
    let plan = cairn_engine::plan(spec, &snapshot)?;
    Ok(cairn_engine::summary_line(&plan))
}
