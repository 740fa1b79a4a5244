//! The command-line layer of cairn: every command (`plan`, `apply`, `destroy`, `refresh`,
//! `graph`) for any [`Program`], and the only code of cairn that parses flags, reads the
//! environment or prints.
//!
//! A program's `main` calls [`run`] (all commands as subcommands) or [`run_command`] (one
//! command as a binary of its own). Each command is a function over [`Io`] (where output
//! goes, how to confirm, the environment's config overrides, the program) and, for commands
//! that reach a cloud, a [`ProviderSource`]: the binaries start the provider plugin
//! ([`plugins`]), tests pass their own.

mod commands;
pub mod config;
mod outputs;
pub mod plugins;
mod program;
mod progress;
pub mod scaffold;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use cairn_engine::Provider;
use clap::{Args, CommandFactory, FromArgMatches, Parser};

pub use commands::{apply, destroy, graph, plan, refresh};
pub use outputs::flat_outputs;
pub use program::{ConfigProblem, Program, ProgramError, ProgramSource, declare_checked};

/// Flags every command shares: which config, which state.
#[derive(Clone, Debug, Args)]
pub struct StackArgs {
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
    /// When resources the plan would create already exist, carrying this stack's ownership
    /// tag for the same address (a lost or damaged state), record them in the state instead
    /// of refusing, and apply what differs between them and the program.
    #[arg(long)]
    pub adopt_owned: bool,
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
    /// The program.
    pub program: &'a dyn ProgramSource,
    /// Where the provider comes from, for commands that reach the cloud.
    pub providers: &'a dyn ProviderSource,
}

/// Makes the provider for commands that reach the cloud.
pub trait ProviderSource {
    /// The provider, with every client sent to `endpoint_url` when given.
    fn provider(&self, endpoint_url: Option<&str>) -> anyhow::Result<Arc<dyn Provider>>;
}

/// The commands, each a subcommand of a program's binary and a binary of its own in the
/// programs cairn ships.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `plan`
    Plan,
    /// `apply`
    Apply,
    /// `destroy`
    Destroy,
    /// `refresh`
    Refresh,
    /// `graph`
    Graph,
}

/// A program's command line: a subcommand and the shared verbosity flag.
#[derive(Debug, Parser)]
struct ProgramInvocation {
    #[command(subcommand)]
    command: CommandLine,
    /// More logs (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
}

/// Every command with its flags.
#[derive(Debug, clap::Subcommand)]
enum CommandLine {
    /// Shows what apply would change, comparing the program with the state. Needs no cloud access.
    Plan(PlanArgs),
    /// Plans, asks for confirmation and applies the changes.
    Apply(ApplyArgs),
    /// Deletes everything the state records, in reverse dependency order.
    Destroy(ApplyArgs),
    /// Reads every recorded resource back and records what changed outside cairn.
    Refresh(RefreshArgs),
    /// Writes the planned resources as a Graphviz dot graph.
    Graph(GraphArgs),
}

/// A binary's command line: one command's flags and the shared verbosity flag.
#[derive(Debug, Parser)]
struct Invocation<A: Args> {
    #[command(flatten)]
    args: A,
    /// More logs (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
}

/// The whole `main` of a program's binary: `program plan|apply|destroy|refresh|graph [FLAGS]`.
/// Prints an error with its cause chain and exits 1 on error.
pub fn run(program: &dyn ProgramSource) -> ExitCode {
    let matches = ProgramInvocation::command()
        .name(program.name().to_owned())
        .version(env!("CARGO_PKG_VERSION"))
        .get_matches();
    let invocation = match ProgramInvocation::from_arg_matches(&matches) {
        Ok(invocation) => invocation,
        Err(error) => error.exit(),
    };
    with_process_io(program, invocation.verbose, |io| match &invocation.command {
        CommandLine::Plan(args) => plan(args, io),
        CommandLine::Apply(args) => apply(args, io),
        CommandLine::Destroy(args) => destroy(args, io),
        CommandLine::Refresh(args) => refresh(args, io),
        CommandLine::Graph(args) => graph(args, io),
    })
}

/// The whole `main` of a binary that runs one `command` of `program` (the shipped `plan`,
/// `apply`, ... binaries of the peering program).
pub fn run_command(program: &dyn ProgramSource, command: Command) -> ExitCode {
    match command {
        Command::Plan => run_one::<PlanArgs>(program, "plan", plan),
        Command::Apply => run_one::<ApplyArgs>(program, "apply", apply),
        Command::Destroy => run_one::<ApplyArgs>(program, "destroy", destroy),
        Command::Refresh => run_one::<RefreshArgs>(program, "refresh", refresh),
        Command::Graph => run_one::<GraphArgs>(program, "graph", graph),
    }
}

/// Parses flags `A` for the binary `name` and runs `command` with them.
fn run_one<A: Args + FromArgMatches>(
    program: &dyn ProgramSource,
    name: &'static str,
    command: impl FnOnce(&A, &mut Io<'_>) -> anyhow::Result<ExitCode>,
) -> ExitCode {
    let about = ProgramInvocation::command()
        .find_subcommand(name)
        .and_then(|subcommand| subcommand.get_about().map(ToString::to_string))
        .unwrap_or_default();
    let matches = Invocation::<A>::command()
        .name(name)
        .about(about)
        .version(env!("CARGO_PKG_VERSION"))
        .get_matches();
    let invocation = match Invocation::<A>::from_arg_matches(&matches) {
        Ok(invocation) => invocation,
        Err(error) => error.exit(),
    };
    with_process_io(program, invocation.verbose, |io| command(&invocation.args, io))
}

/// Runs `command` with the process's own standard streams, terminal, environment and
/// provider plugin.
fn with_process_io(
    program: &dyn ProgramSource,
    verbosity: u8,
    command: impl FnOnce(&mut Io<'_>) -> anyhow::Result<ExitCode>,
) -> ExitCode {
    cairn_plugin::init_logging(verbosity);
    let mut stdout = anstream::stdout();
    let mut stderr = anstream::stderr();
    let mut confirm = ask_on_terminal;
    let providers = plugins::AwsPlugin { verbosity };
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
        program,
        providers: &providers,
    };
    run_io(&mut io, command)
}

/// Runs `command` as a binary does: its exit code, or on error the error and its causes on
/// standard error and exit code 1.
pub fn run_io(
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
