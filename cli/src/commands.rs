//! The commands.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use cairn_engine::{
    ApplyOptions, ApplyReport, Plan, Provider, RenderOptions, RunKind, StackSpec, render_drift,
    render_plan,
};
use cairn_state::Store;
use owo_colors::{OwoColorize, Style};

use super::outputs::{print_outputs, write_flat_outputs};
use super::progress::ConsoleProgress;
use super::{
    ApplyArgs, CloudArgs, GraphArgs, Io, PlanArgs, ProviderSource, RefreshArgs, StackArgs,
};

/// `plan`: shows what apply would do. Reads the state, touches no cloud.
pub fn plan(args: &PlanArgs, io: &mut Io<'_>) -> anyhow::Result<ExitCode> {
    let spec = declare(&args.stack, io)?;
    if args.list_policies {
        return list_policies(&spec, io);
    }
    let snapshot = read_state(&args.stack.state)?;
    let plan = cairn_engine::plan(&spec, &snapshot)?;
    if let Some(path) = &args.out {
        write_plan_file(&plan, path, &args.stack.state)?;
    }
    if args.json {
        writeln!(io.out, "{}", serde_json::to_string_pretty(&plan.redacted())?)?;
    } else {
        write!(io.out, "{}", render_plan(&plan, RenderOptions { color: io.color }))?;
    }
    if let Some(path) = &args.out {
        writeln!(
            io.out,
            "\nSaved the plan to {}: run `apply --plan {0}` to apply exactly it.",
            path.display()
        )?;
    }
    Ok(match (args.detailed_exitcode, plan.is_empty()) {
        (true, false) => ExitCode::from(2),
        _ => ExitCode::SUCCESS,
    })
}

/// `plan --list-policies`: the rules the program enforces, their severity and what they
/// require.
fn list_policies(spec: &StackSpec, io: &mut Io<'_>) -> anyhow::Result<ExitCode> {
    let rules = &spec.policies;
    let width = rules.iter().map(|rule| rule.id.len()).max().unwrap_or(0);
    writeln!(io.out, "{:width$}  {:8}  description", "rule", "severity")?;
    for rule in rules {
        writeln!(
            io.out,
            "{:width$}  {:8}  {}",
            rule.id,
            rule.severity.to_string(),
            rule.description
        )?;
    }
    writeln!(
        io.out,
        "\nWaive a rule for one resource in the program: `.waive(\"rule-id\", \"why\")`; the plan prints the reason."
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `graph`: the planned resources as Graphviz dot.
pub fn graph(args: &GraphArgs, io: &mut Io<'_>) -> anyhow::Result<ExitCode> {
    let spec = declare(&args.stack, io)?;
    let snapshot = read_state(&args.stack.state)?;
    let plan = cairn_engine::plan(&spec, &snapshot)?;
    let dot = cairn_engine::to_dot(&plan);
    match &args.out {
        Some(path) => {
            write_file(path, dot.as_bytes())?;
            writeln!(io.err, "Wrote the graph to {}.", path.display())?;
        }
        None => write!(io.out, "{dot}")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `apply`: plans (or loads a saved plan), asks, applies, records outputs.
pub fn apply(args: &ApplyArgs, io: &mut Io<'_>) -> anyhow::Result<ExitCode> {
    // Everything that can be checked without writing is checked first: the program (or the
    // saved plan), the state read-only, and a plan against it. Only then is the state opened
    // for writing and the cloud reached.
    let source = match &args.plan {
        Some(path) => PlanSource::File(read_plan_file(path, &args.stack.state)?),
        None => PlanSource::Program(declare(&args.stack, io)?),
    };
    let checked = source.plan(&read_state(&args.stack.state)?)?;
    let store = Store::open(&args.stack.state)?;
    cairn_engine::check_fresh(&checked, &store)?;
    let runtime = runtime()?;
    let mut provider = LazyProvider::new(io.providers, &args.cloud);
    recover(&runtime, &store, &mut provider, &checked.bindings, io)?;
    // The state may differ from what was read: just created, or settled by recovery.
    let mut plan = source.plan(&store.snapshot()?)?;
    if let Some(stopped) = show_and_confirm(&plan, RunKind::Apply, args, io)? {
        return Ok(stopped);
    }
    if let Some(replanned) =
        adopt_or_refuse_owned(&source, &plan, &store, &runtime, &mut provider, args, io)?
    {
        writeln!(io.out, "\nWith them recorded, the plan is now:")?;
        plan = replanned;
        if let Some(stopped) = show_and_confirm(&plan, RunKind::Apply, args, io)? {
            return Ok(stopped);
        }
    }
    run_plan(&plan, &store, &runtime, provider.get()?, args, RunKind::Apply, io)
}

/// Where apply's plan comes from.
enum PlanSource {
    /// A plan saved by `plan --out`, applied exactly as it is.
    File(Plan),
    /// The program, planned against the state.
    Program(StackSpec),
}

impl PlanSource {
    /// The plan against `state`; a saved plan is returned as it is (apply refuses it if the
    /// state has moved since).
    fn plan(&self, state: &cairn_engine::Snapshot) -> anyhow::Result<Plan> {
        Ok(match self {
            PlanSource::File(plan) => plan.clone(),
            PlanSource::Program(spec) => cairn_engine::plan(spec, state)?,
        })
    }
}

/// `destroy`: deletes everything the state records, in reverse dependency order, after
/// settling what an interrupted run left (a replaced resource still to delete included).
pub fn destroy(args: &ApplyArgs, io: &mut Io<'_>) -> anyhow::Result<ExitCode> {
    read_state(&args.stack.state)?;
    let store = Store::open(&args.stack.state)?;
    let mut plan = destroy_plan(&store.snapshot()?)?;
    let runtime = runtime()?;
    let mut provider = LazyProvider::new(io.providers, &args.cloud);
    if recover(&runtime, &store, &mut provider, &plan.bindings, io)? {
        plan = destroy_plan(&store.snapshot()?)?;
    }
    execute(&plan, &store, &runtime, provider, args, RunKind::Destroy, io)
}

/// The plan that deletes everything `snapshot` records.
fn destroy_plan(snapshot: &cairn_engine::Snapshot) -> anyhow::Result<Plan> {
    let stack_name = snapshot
        .resources
        .values()
        .next()
        .and_then(|record| record.urn.strip_prefix("urn:cairn:"))
        .and_then(|rest| rest.split("::").next())
        .unwrap_or_default();
    Ok(cairn_engine::plan_destroy(stack_name, snapshot)?)
}

/// The state as it is, read without writing a byte (a missing state reads as empty).
fn read_state(dir: &Path) -> anyhow::Result<cairn_engine::Snapshot> {
    Ok(Store::read_snapshot(dir)?)
}

/// Runs the program and returns what it declares; nothing is opened or called before this.
fn declare(stack: &StackArgs, io: &Io<'_>) -> anyhow::Result<StackSpec> {
    Ok(io.program.declare(&stack.config, &io.overrides)?)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Settles what an interrupted run left in the journal, if anything, and says what it did;
/// returns whether there was anything (and so whether the state may have changed).
fn recover(
    runtime: &tokio::runtime::Runtime,
    store: &Store,
    provider: &mut LazyProvider<'_>,
    bindings: &std::collections::BTreeMap<String, cairn_engine::ProviderBinding>,
    io: &mut Io<'_>,
) -> anyhow::Result<bool> {
    if store.pending_operations()?.is_empty() {
        return Ok(false);
    }
    writeln!(io.err, "Checking operations a previous run left unfinished...")?;
    let report = runtime.block_on(cairn_engine::recover_interrupted(
        store,
        provider.get()?.as_ref(),
        bindings,
        io.now_unix,
    ))?;
    for name in &report.adopted {
        writeln!(io.err, "  adopted `{name}`: it was created before the interruption")?;
    }
    for name in &report.removed {
        writeln!(io.err, "  forgot `{name}`: it was deleted before the interruption")?;
    }
    for name in &report.cleared {
        writeln!(io.err, "  `{name}`: the interrupted operation had not taken effect")?;
    }
    for name in &report.replaced_deleted {
        writeln!(io.err, "  deleted the resource `{name}` replaced")?;
    }
    for (name, error) in &report.replaced_kept {
        writeln!(
            io.err,
            "  could not delete the resource `{name}` replaced, so it stays in the journal and \
             the next apply tries again: {error}"
        )?;
    }
    Ok(true)
}

/// The provider, started the first time a command needs it: never for a plan that is empty
/// or refused at the confirmation, nor for a journal with nothing to settle.
struct LazyProvider<'a> {
    source: &'a dyn ProviderSource,
    cloud: &'a CloudArgs,
    started: Option<Arc<dyn Provider>>,
}

impl<'a> LazyProvider<'a> {
    fn new(source: &'a dyn ProviderSource, cloud: &'a CloudArgs) -> Self {
        LazyProvider { source, cloud, started: None }
    }

    /// The provider, started now if it is not running yet.
    fn get(&mut self) -> anyhow::Result<Arc<dyn Provider>> {
        if let Some(provider) = &self.started {
            return Ok(provider.clone());
        }
        let provider = self.source.provider(self.cloud.endpoint_url.as_deref())?;
        self.started = Some(provider.clone());
        Ok(provider)
    }
}

/// `refresh`: reads every resource the state records back from the cloud, shows what changed
/// outside cairn, and records it after confirmation; the next `plan` then shows what `apply`
/// changes to bring the cloud back in line with the program. Exits 1 when a resource could
/// not be read.
pub fn refresh(args: &RefreshArgs, io: &mut Io<'_>) -> anyhow::Result<ExitCode> {
    read_state(&args.stack.state)?;
    let store = Store::open(&args.stack.state)?;
    let runtime = runtime()?;
    let mut provider = LazyProvider::new(io.providers, &args.cloud);
    let mut snapshot = store.snapshot()?;
    let bindings = cairn_engine::recorded_bindings(&snapshot)?;
    if recover(&runtime, &store, &mut provider, &bindings, io)? {
        snapshot = store.snapshot()?;
    }
    if snapshot.resources.is_empty() {
        writeln!(io.out, "The state records no resources: nothing to refresh.")?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(io.err, "Reading {} resources back...", snapshot.resources.len())?;
    let parallelism = usize::from(args.cloud.parallelism);
    let report =
        runtime.block_on(cairn_engine::detect_drift(&snapshot, provider.get()?, parallelism))?;
    write!(io.out, "{}", render_drift(&report, RenderOptions { color: io.color }))?;
    for violation in cairn_dsl::policy::drift_violations(&report) {
        writeln!(io.out, "{violation}")?;
    }
    let outcome = if report.failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    if report.drift.is_empty() {
        return Ok(outcome);
    }
    if !confirmed(args.cloud.yes, "record this drift in the state", io)? {
        return Ok(ExitCode::FAILURE);
    }
    cairn_engine::record_drift(&store, &report, io.now_unix)?;
    writeln!(
        io.out,
        "\nRecorded the drift in the state. Run `plan` to see what `apply` changes to bring \
         the cloud back in line with the program."
    )?;
    Ok(outcome)
}

/// Whether to go on and `verb`: yes with `--yes`, else the user's answer. A refusal is
/// printed as a cancellation; no terminal to ask on is an error that says to pass `--yes`.
fn confirmed(yes: bool, verb: &str, io: &mut Io<'_>) -> anyhow::Result<bool> {
    if yes {
        return Ok(true);
    }
    match (io.confirm)(&format!("\nDo you want to {verb}?")) {
        Some(true) => Ok(true),
        Some(false) => {
            writeln!(io.out, "\nCancelled: nothing was changed.")?;
            Ok(false)
        }
        None => bail!(
            "refusing to {verb} without confirmation: standard input is not a terminal; pass --yes"
        ),
    }
}

/// Shows the plan, asks, applies it and reports.
fn execute(
    plan: &Plan,
    store: &Store,
    runtime: &tokio::runtime::Runtime,
    mut provider: LazyProvider<'_>,
    args: &ApplyArgs,
    kind: RunKind,
    io: &mut Io<'_>,
) -> anyhow::Result<ExitCode> {
    if let Some(stopped) = show_and_confirm(plan, kind, args, io)? {
        return Ok(stopped);
    }
    run_plan(plan, store, runtime, provider.get()?, args, kind, io)
}

/// Shows the plan and asks; the exit code to stop with when it is empty or refused.
fn show_and_confirm(
    plan: &Plan,
    kind: RunKind,
    args: &ApplyArgs,
    io: &mut Io<'_>,
) -> anyhow::Result<Option<ExitCode>> {
    write!(io.out, "{}", render_plan(plan, RenderOptions { color: io.color }))?;
    if plan.is_empty() {
        return Ok(Some(ExitCode::SUCCESS));
    }
    let verb = if kind == RunKind::Destroy {
        "destroy all these resources"
    } else {
        "perform these actions"
    };
    Ok((!confirmed(args.cloud.yes, verb, io)?).then_some(ExitCode::FAILURE))
}

/// Applies the confirmed plan and reports.
fn run_plan(
    plan: &Plan,
    store: &Store,
    runtime: &tokio::runtime::Runtime,
    provider: Arc<dyn Provider>,
    args: &ApplyArgs,
    kind: RunKind,
    io: &mut Io<'_>,
) -> anyhow::Result<ExitCode> {
    writeln!(io.out)?;
    let progress = ConsoleProgress::new(plan);
    let options = ApplyOptions {
        parallelism: usize::from(args.cloud.parallelism),
        kind,
        started_at_unix: io.now_unix,
    };
    let report =
        runtime.block_on(cairn_engine::apply(plan, store, provider, options, &progress))?;
    progress.finish();
    report_outcome(&report, kind, args, io)
}

/// The plan to apply once nothing it creates exists already under this stack's ownership tag
/// (a lost, damaged or rolled-back state would otherwise build a second copy). When something
/// does, nothing is changed and the error names each one; with `--adopt-owned` they are
/// recorded in the state instead, through the journal as recovery adopts an interrupted
/// create, and the program is planned again until nothing more is found: the new plan is
/// returned. `None` when nothing was found.
fn adopt_or_refuse_owned(
    source: &PlanSource,
    planned: &Plan,
    store: &Store,
    runtime: &tokio::runtime::Runtime,
    provider: &mut LazyProvider<'_>,
    args: &ApplyArgs,
    io: &mut Io<'_>,
) -> anyhow::Result<Option<Plan>> {
    let parallelism = usize::from(args.cloud.parallelism);
    let mut replanned: Option<Plan> = None;
    loop {
        let plan = replanned.as_ref().unwrap_or(planned);
        if !plan.steps.iter().any(|step| step.action == cairn_engine::Action::Create) {
            break;
        }
        let provider = provider.get()?;
        let owned = runtime.block_on(cairn_engine::find_already_owned(
            plan,
            Arc::clone(&provider),
            parallelism,
        ))?;
        if owned.is_empty() {
            break;
        }
        let listed: Vec<String> = owned
            .iter()
            .map(|found| {
                format!(
                    "  `{}` ({} in {}): {}",
                    found.name, found.type_token, found.binding, found.id
                )
            })
            .collect();
        if !args.adopt_owned || matches!(source, PlanSource::File(_)) {
            bail!(
                "{} of the resources this plan would create already exist, carrying this \
                 stack's ownership tag for the same address, but the state does not record \
                 them:\n{}\nNothing was changed. The state was probably lost, damaged or \
                 restored from an older copy: restore the latest state, or run `apply \
                 --adopt-owned` (with the program, not a saved plan) to record them in the state \
                 and apply what differs.",
                owned.len(),
                listed.join("\n")
            );
        }
        cairn_engine::journal_for_adoption(store, plan, &owned, io.now_unix)?;
        let report = runtime.block_on(cairn_engine::recover_interrupted(
            store,
            provider.as_ref(),
            &plan.bindings,
            io.now_unix,
        ))?;
        writeln!(
            io.err,
            "Adopted {} resources that carry this stack's ownership tag:",
            report.adopted.len()
        )?;
        writeln!(io.err, "{}", listed.join("\n"))?;
        if report.adopted.is_empty() {
            bail!("the resources found by ownership tag were gone when read back: run apply again");
        }
        replanned = Some(source.plan(&store.snapshot()?)?);
    }
    Ok(replanned)
}

fn report_outcome(
    report: &ApplyReport,
    kind: RunKind,
    args: &ApplyArgs,
    io: &mut Io<'_>,
) -> anyhow::Result<ExitCode> {
    let noun = if kind == RunKind::Destroy { "Destroy" } else { "Apply" };
    if report.succeeded() {
        let renamed = match report.renamed.len() {
            0 => String::new(),
            count => format!(" {count} renamed in the state."),
        };
        let line = format!("{noun} complete! {} operations.{renamed}", report.completed.len());
        writeln!(io.out, "\n{}", paint(io.color, &line, Style::new().green().bold()))?;
    } else {
        let line = format!(
            "{noun} failed: {} operations succeeded, {} failed, {} skipped.",
            report.completed.len(),
            report.failed.len(),
            report.skipped.len()
        );
        writeln!(io.out, "\n{}", paint(io.color, &line, Style::new().red().bold()))?;
        for failure in &report.failed {
            let operation = &failure.operation;
            writeln!(
                io.out,
                "  failed  {} {} ({:?}): {}",
                operation.type_token, operation.name, operation.kind, failure.message
            )?;
        }
        for skipped in &report.skipped {
            let operation = &skipped.operation;
            writeln!(
                io.out,
                "  skipped {} {}: waits on `{}`",
                operation.type_token, operation.name, skipped.because_of
            )?;
        }
        writeln!(
            io.out,
            "Everything that succeeded is recorded in the state; fix the failures and run apply again."
        )?;
    }
    if kind == RunKind::Apply {
        print_outputs(&report.outputs, io)?;
        write_flat_outputs(&report.outputs, &args.outputs)?;
        writeln!(io.out, "\nWrote the outputs to {}.", args.outputs.display())?;
    }
    Ok(if report.succeeded() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `text` in `style` when colour is on.
pub(super) fn paint(color: bool, text: &str, style: Style) -> String {
    if color { text.style(style).to_string() } else { text.to_owned() }
}

/// Writes the plan readable by its owner only (0600): it holds the resources' inputs.
/// Writes `plan` to `path` (mode 0600), its secrets sealed with the key of the state in
/// `state`, so that the file holds them no more readably than the state does.
fn write_plan_file(plan: &Plan, path: &Path, state: &Path) -> anyhow::Result<()> {
    let mut document = serde_json::to_value(plan)?;
    let what = format!("plan file {}", path.display());
    cairn_state::seal_document(state, &what, &mut document)?;
    write_private_file(path, serde_json::to_string_pretty(&document)?.as_bytes())
}

/// Reads the plan `write_plan_file` saved, unsealing its secrets with the key of `state`.
fn read_plan_file(path: &Path, state: &Path) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!("cannot read plan file {}: run `plan --out {0}` first", path.display())
    })?;
    let not_a_plan =
        || format!("plan file {} is not a cairn plan: run `plan --out {0}` again", path.display());
    let mut document: serde_json::Value = serde_json::from_str(&text).with_context(not_a_plan)?;
    cairn_state::unseal_document(state, &format!("plan file {}", path.display()), &mut document)?;
    let plan: Plan = serde_json::from_value(document).with_context(not_a_plan)?;
    if plan.format_version != cairn_engine::PLAN_FORMAT_VERSION {
        bail!(
            "plan file {} has format {} but this cairn reads format {}: run `plan --out` again",
            path.display(),
            plan.format_version,
            cairn_engine::PLAN_FORMAT_VERSION
        );
    }
    Ok(plan)
}

/// Writes `bytes` to `path`, creating its directory.
pub(super) fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    create_parent(path)?;
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes `bytes` to `path` so that only its owner can read it (mode 0600, also when the
/// file was there before with a wider mode), creating its directory.
fn write_private_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    create_parent(path)?;
    let cannot = || format!("cannot write {}", path.display());
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(cannot)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600)).with_context(cannot)?;
    file.write_all(bytes).with_context(cannot)
}

fn create_parent(path: &Path) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create directory {}", parent.display()))?;
    }
    Ok(())
}
