//! `refresh`: Reads every resource the state records back from the cloud, shows what changed outside cairn, and records it after confirmation (unless --yes).

use std::process::ExitCode;

use cairn_programs::cli::{RefreshArgs, main_with, refresh};

fn main() -> ExitCode {
    main_with::<RefreshArgs>(
        "refresh",
        "Reads every resource the state records back from the cloud, shows what changed outside cairn, and records it after confirmation (unless --yes).",
        refresh,
    )
}
