//! `destroy`: Deletes every resource the state records, in reverse dependency order, after confirmation (unless --yes).

use std::process::ExitCode;

use cairn_programs::cli::{ApplyArgs, destroy, main_with};

fn main() -> ExitCode {
    main_with::<ApplyArgs>(
        "destroy",
        "Deletes every resource the state records, in reverse dependency order, after confirmation (unless --yes).",
        destroy,
    )
}
