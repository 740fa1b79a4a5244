//! A user's program that goes wrong: one that panics while declaring, and one whose config
//! fails its own check. Each stops with a clear error and exit code 1, before any provider
//! is asked for and without creating or touching the state.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use cairn_cli::{
    ApplyArgs, CloudArgs, ConfigProblem, Io, PlanArgs, Program, ProviderSource, StackArgs,
};
use cairn_dsl::Stack;
use cairn_engine::Provider;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    buckets: u32,
}

/// Panics on a config that asks for no buckets.
struct Panicky;

impl Program for Panicky {
    type Config = Settings;
    type Error = std::convert::Infallible;

    fn name(&self) -> &str {
        "panicky"
    }

    fn declare(&self, _stack: &Stack, config: &Settings) {
        assert!(config.buckets > 0, "a stack needs at least one bucket");
    }
}

/// Refuses more than three buckets in its own check.
struct Strict;

impl Program for Strict {
    type Config = Settings;
    type Error = ConfigProblem;

    fn name(&self) -> &str {
        "strict"
    }

    fn check(&self, config: &Settings) -> Result<(), ConfigProblem> {
        if config.buckets > 3 {
            return Err(ConfigProblem::new(
                "buckets",
                format!("is {}, more than the 3 this program allows", config.buckets),
                "ask for at most 3 buckets",
            ));
        }
        Ok(())
    }

    fn declare(&self, _stack: &Stack, _config: &Settings) {}
}

/// Counts how often a provider was asked for, and never hands one out.
#[derive(Default)]
struct NoProviders {
    asked: Cell<usize>,
}

impl ProviderSource for NoProviders {
    fn provider(&self, _endpoint_url: Option<&str>) -> anyhow::Result<Arc<dyn Provider>> {
        self.asked.set(self.asked.get() + 1);
        anyhow::bail!("no provider in this test")
    }
}

/// Runs `plan` and `apply --yes` of `program` with a config holding `buckets`; returns the
/// exit codes and what each printed.
fn plan_and_apply(program: &dyn cairn_cli::ProgramSource, buckets: u32) -> Vec<(ExitCode, String)> {
    let temp = tempfile::tempdir().expect("temp dir");
    let config = temp.path().join("stack.toml");
    std::fs::write(&config, format!("buckets = {buckets}\n")).expect("config");
    let state = temp.path().join("state");
    let stack = StackArgs { config: config.clone(), state: state.clone() };
    let providers = NoProviders::default();
    let plan_args = PlanArgs {
        stack: stack.clone(),
        out: None,
        json: false,
        detailed_exitcode: false,
        list_policies: false,
    };
    let apply_args = ApplyArgs {
        stack,
        cloud: CloudArgs { yes: true, parallelism: 1, endpoint_url: None },
        plan: None,
        outputs: temp.path().join("outputs.json"),
        adopt_owned: false,
    };
    let runs = vec![
        run(program, &providers, |io| cairn_cli::plan(&plan_args, io)),
        run(program, &providers, |io| cairn_cli::apply(&apply_args, io)),
    ];
    assert_eq!(providers.asked.get(), 0, "no provider was asked for");
    assert!(!state.exists(), "the state was not created");
    assert_only_config(temp.path(), &config);
    runs
}

fn assert_only_config(dir: &Path, config: &Path) {
    let entries: Vec<PathBuf> =
        std::fs::read_dir(dir).expect("dir").map(|entry| entry.expect("entry").path()).collect();
    assert_eq!(entries, [config.to_owned()], "nothing but the config is there");
}

fn run(
    program: &dyn cairn_cli::ProgramSource,
    providers: &NoProviders,
    command: impl FnOnce(&mut Io<'_>) -> anyhow::Result<ExitCode>,
) -> (ExitCode, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut confirm = |_: &str| Some(true);
    let mut io = Io {
        out: &mut out,
        err: &mut err,
        color: false,
        confirm: &mut confirm,
        overrides: Vec::new(),
        now_unix: 1,
        program,
        providers,
    };
    let code = cairn_cli::run_io(&mut io, command);
    (code, String::from_utf8_lossy(&err).into_owned() + &String::from_utf8_lossy(&out))
}

#[test]
fn a_program_that_panics_is_an_error_that_says_so() {
    for (code, text) in plan_and_apply(&Panicky, 0) {
        assert_eq!(code, ExitCode::FAILURE, "{text}");
        assert!(text.contains("the program `panicky` panicked"), "{text}");
        assert!(text.contains("a stack needs at least one bucket"), "the panic's message: {text}");
        assert!(text.contains("the state is as it was"), "{text}");
    }
}

#[test]
fn a_config_that_fails_the_programs_check_names_the_key_and_the_fix() {
    for (code, text) in plan_and_apply(&Strict, 4) {
        assert_eq!(code, ExitCode::FAILURE, "{text}");
        assert!(text.contains("stack.toml: `buckets` is 4, more than the 3"), "{text}");
        assert_eq!(text.matches("fix: ask for at most 3 buckets").count(), 1, "said once: {text}");
    }
}

#[test]
fn the_same_programs_plan_when_nothing_is_wrong() {
    for program in [&Panicky as &dyn cairn_cli::ProgramSource, &Strict] {
        let temp = tempfile::tempdir().expect("temp dir");
        let config = temp.path().join("stack.toml");
        std::fs::write(&config, "buckets = 2\n").expect("config");
        let args = PlanArgs {
            stack: StackArgs { config, state: temp.path().join("state") },
            out: None,
            json: false,
            detailed_exitcode: false,
            list_policies: false,
        };
        let (code, text) = run(program, &NoProviders::default(), |io| cairn_cli::plan(&args, io));
        assert_eq!(code, ExitCode::SUCCESS, "{text}");
        assert!(text.contains("No changes."), "{text}");
    }
}
