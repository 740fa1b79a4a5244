//! `plan`: Shows what apply would change, comparing the program with the state. Needs no cloud access.

use std::process::ExitCode;

use cairn_programs::cli::{PlanArgs, main_with, plan};

fn main() -> ExitCode {
    main_with::<PlanArgs>(
        "plan",
        "Shows what apply would change, comparing the program with the state. Needs no cloud access.",
        plan,
    )
}
