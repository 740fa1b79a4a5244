//! The command-line layer shared by the `plan`, `apply`, `destroy`, `refresh` and `graph`
//! binaries: the only code of cairn that parses flags, reads the environment or prints.
//!
//! Each command is a function over [`Io`] (where output goes, how to confirm, the
//! environment's config overrides) and, for commands that reach a cloud, a
//! [`ProviderSource`]; the binaries pass the process's own, tests pass their own.

mod commands;
mod outputs;
mod progress;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use cairn_engine::Provider;
use clap::{Args, CommandFactory, FromArgMatches, Parser};

pub use commands::{apply, destroy, graph, plan, refresh};
pub use outputs::flat_outputs;

/// Flags every command shares: which program, which config, which state.
#[derive(Clone, Debug, Args)]
pub struct StackArgs {
    /// The program to run.
    #[arg(long, default_value = crate::peering::NAME, value_name = "NAME")]
    pub program: String,
    /// The stack config file (TOML); keys can be overridden with CAIRN_CONFIG__SECTION__KEY.
    #[arg(long, default_value = "config/local.toml", value_name = "FILE")]
    pub config: PathBuf,
    /// The state directory.
    #[arg(long, default_value = ".cairn/state", value_name = "DIR")]
    pub state: PathBuf,
}

/// Flags of `plan`.
#[derive(Clone, Debug, Args)]
pub struct PlanArgs {
    /// Which stack.
    #[command(flatten)]
    pub stack: StackArgs,
    /// Also write the plan to FILE, for `apply --plan FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the plan as its JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// Exit 0 when there are no changes, 2 when there are (errors exit 1).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// List the policy rules every plan checks, and exit.
    #[arg(long)]
    pub list_policies: bool,
}

/// Flags of every command that reaches the cloud and writes the state.
#[derive(Clone, Debug, Args)]
pub struct CloudArgs {
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// The most provider calls in flight at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    pub parallelism: u16,
    /// Send every AWS client to this endpoint (a local emulator). Defaults to the SDK's own
    /// AWS_ENDPOINT_URL.
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
}

/// Flags of `refresh`.
#[derive(Clone, Debug, Args)]
pub struct RefreshArgs {
    /// Which stack.
    #[command(flatten)]
    pub stack: StackArgs,
    /// How to reach the cloud.
    #[command(flatten)]
    pub cloud: CloudArgs,
}

/// Flags of `apply` and `destroy`.
#[derive(Clone, Debug, Args)]
pub struct ApplyArgs {
    /// Which stack.
    #[command(flatten)]
    pub stack: StackArgs,
    /// How to reach the cloud.
    #[command(flatten)]
    pub cloud: CloudArgs,
    /// Execute this saved plan exactly (from `plan --out`), refusing it if the state moved.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Where to write the stack outputs as one flat JSON object.
    #[arg(long, default_value = "cfn-outputs/flat-outputs.json", value_name = "FILE")]
    pub outputs: PathBuf,
}

/// Flags of `graph`.
#[derive(Clone, Debug, Args)]
pub struct GraphArgs {
    /// Which stack.
    #[command(flatten)]
    pub stack: StackArgs,
    /// Write the dot graph to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Where a command's output goes and how it asks for confirmation.
pub struct Io<'a> {
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error: progress and diagnostics.
    pub err: &'a mut dyn Write,
    /// Whether to emit colour (the stream strips it again where it must).
    pub color: bool,
    /// Asks the user a yes/no question; `None` when nobody can answer.
    pub confirm: &'a mut dyn FnMut(&str) -> Option<bool>,
    /// The environment's config overrides (`CAIRN_CONFIG__…`).
    pub overrides: Vec<(String, String)>,
    /// The current time in seconds since the Unix epoch, for the state's history.
    pub now_unix: u64,
    /// Where programs come from.
    pub programs: &'a dyn ProgramSource,
    /// Where the provider comes from, for commands that reach the cloud.
    pub providers: &'a dyn ProviderSource,
}

/// Runs a program by name and returns what it declares.
pub trait ProgramSource {
    /// Runs program `name` with the stack config at `config` and the environment's
    /// `overrides`.
    fn declare(
        &self,
        name: &str,
        config: &std::path::Path,
        overrides: &[(String, String)],
    ) -> Result<cairn_engine::StackSpec, crate::registry::ProgramError>;
}

/// The programs cairn ships ([`crate::registry`]).
pub struct BuiltinPrograms;

impl ProgramSource for BuiltinPrograms {
    fn declare(
        &self,
        name: &str,
        config: &std::path::Path,
        overrides: &[(String, String)],
    ) -> Result<cairn_engine::StackSpec, crate::registry::ProgramError> {
        crate::registry::declare(name, config, overrides)
    }
}

/// Makes the provider for commands that reach the cloud.
pub trait ProviderSource {
    /// The provider, with every client sent to `endpoint_url` when given.
    fn provider(&self, endpoint_url: Option<&str>) -> anyhow::Result<Arc<dyn Provider>>;
}

/// A binary's command line: its own flags and the shared verbosity flag.
#[derive(Debug, Parser)]
struct Invocation<A: Args> {
    #[command(flatten)]
    args: A,
    /// More logs (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
}

/// The whole `main` of a binary called `name`: parses flags `A`, sets up logs, runs
/// `command`, prints an error with its cause chain and exits 1 on error.
pub fn main_with<A: Args + FromArgMatches>(
    name: &'static str,
    about: &'static str,
    command: impl FnOnce(&A, &mut Io<'_>) -> anyhow::Result<ExitCode>,
) -> ExitCode {
    let matches = Invocation::<A>::command()
        .name(name)
        .about(about)
        .version(env!("CARGO_PKG_VERSION"))
        .get_matches();
    let invocation = match Invocation::<A>::from_arg_matches(&matches) {
        Ok(invocation) => invocation,
        Err(error) => error.exit(),
    };
    init_tracing(invocation.verbose);
    let mut stdout = anstream::stdout();
    let mut stderr = anstream::stderr();
    let mut confirm = ask_on_terminal;
    let mut io = Io {
        out: &mut stdout,
        err: &mut stderr,
        color: true,
        confirm: &mut confirm,
        overrides: crate::config::overrides_from(std::env::vars()),
        now_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or_default(),
        programs: &BuiltinPrograms,
        providers: &AwsProviderSource,
    };
    run(&mut io, |io| command(&invocation.args, io))
}

/// Runs `command` as a binary does: its exit code, or on error the error and its causes on
/// standard error and exit code 1.
pub fn run(
    io: &mut Io<'_>,
    command: impl FnOnce(&mut Io<'_>) -> anyhow::Result<ExitCode>,
) -> ExitCode {
    match command(io) {
        Ok(code) => code,
        Err(error) => {
            let _ = writeln!(io.err, "error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(verbosity: u8) {
    let default = match verbosity {
        0 => "warn",
        1 => "info,aws_config=warn,aws_smithy_runtime=warn",
        2 => "debug,aws_smithy_runtime=info,hyper=info",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Asks on the terminal; `None` when standard input is not one.
fn ask_on_terminal(question: &str) -> Option<bool> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return None;
    }
    let mut stderr = anstream::stderr();
    let _ = write!(
        stderr,
        "{question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    let _ = stderr.flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).ok()?;
    Some(answer.trim() == "yes")
}

/// The AWS provider, for the binaries.
pub struct AwsProviderSource;

impl ProviderSource for AwsProviderSource {
    fn provider(&self, endpoint_url: Option<&str>) -> anyhow::Result<Arc<dyn Provider>> {
        Ok(Arc::new(cairn_aws::AwsProvider::new(cairn_aws::ProviderOptions {
            endpoint_url: endpoint_url.map(str::to_owned),
            static_credentials: None,
        })))
    }
}
