//! `apply`: Plans, asks for confirmation (unless --yes) and applies the plan across every account, recording each change in the state as it happens.

use std::process::ExitCode;

use cairn_programs::cli::{ApplyArgs, apply, main_with};

fn main() -> ExitCode {
    main_with::<ApplyArgs>(
        "apply",
        "Plans, asks for confirmation (unless --yes) and applies the plan across every account, recording each change in the state as it happens.",
        apply,
    )
}
