//! The test harness of cairn's end-to-end tests: the local AWS emulator (moto), fresh
//! accounts per test, and providers pointed at it.
//!
//! `scripts/test` starts one emulator for the whole run and passes its URL in
//! `CAIRN_EMULATOR_URL`; without it, each test process starts its own from the project's
//! virtualenv (installed by `scripts/setup`) and stops it when the process exits. A test that
//! needs the emulator fails, never skips, when it is missing.

pub mod peering;
pub mod proxy;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use cairn_aws::{AwsProvider, Clients, ProviderOptions, StaticCredentials};
use cairn_dsl::{Binding, Stack, tags};
use cairn_engine::{
    Action, Observed, Outputs, Plan, Provider, ProviderBinding, RecordedResource, ResourceRequest,
    Urn,
};
use serde_json::{Value, json};

/// The emulator's dummy credentials (moto accepts any).
pub const DUMMY_KEY: &str = "testing";

/// The variable through which `scripts/test` hands over a running emulator.
pub const EMULATOR_URL_VARIABLE: &str = "CAIRN_EMULATOR_URL";

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The cargo target profile directory this test runs from (`target/debug`): tests live in
/// its `deps/`.
pub fn target_profile_dir() -> PathBuf {
    let test = std::env::current_exe().expect("the test's executable");
    test.parent().and_then(Path::parent).map(Path::to_path_buf).expect("target/debug/deps/TEST")
}

/// The AWS provider plugin `cargo test --workspace` built beside the tests (`cairn-aws` has
/// an integration test of it, so cargo always builds it first). Commands the tests run as
/// processes get it through `CAIRN_PROVIDER_AWS`.
pub fn aws_plugin() -> PathBuf {
    let plugin = target_profile_dir().join("cairn-provider-aws");
    assert!(
        plugin.is_file(),
        "the AWS provider plugin is not built at {}: run the tests with `cargo test \
         --workspace` (scripts/test), which builds it",
        plugin.display()
    );
    plugin
}

/// Hands the commands one provider: the test's, pointed at the emulator.
pub struct SharedProvider(pub Arc<AwsProvider>);

impl cairn_cli::ProviderSource for SharedProvider {
    fn provider(&self, _endpoint_url: Option<&str>) -> anyhow::Result<Arc<dyn Provider>> {
        Ok(self.0.clone())
    }
}

/// Runs a command of `program` in this process, as its binary would (errors printed with
/// their causes, exit code returned), with `provider`, the environment's config
/// `overrides` and no terminal to confirm on; returns the exit code and what it printed,
/// standard output first.
pub fn run_command(
    program: &dyn cairn_cli::ProgramSource,
    provider: &Arc<AwsProvider>,
    overrides: &[(String, String)],
    command: impl FnOnce(&mut cairn_cli::Io<'_>) -> anyhow::Result<std::process::ExitCode>,
) -> (std::process::ExitCode, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut confirm = |_: &str| None;
    let providers = SharedProvider(provider.clone());
    let mut io = cairn_cli::Io {
        out: &mut out,
        err: &mut err,
        color: false,
        confirm: &mut confirm,
        overrides: overrides.to_vec(),
        now_unix: 1,
        program,
        providers: &providers,
    };
    let code = cairn_cli::run_io(&mut io, command);
    (code, String::from_utf8_lossy(&out).into_owned() + &String::from_utf8_lossy(&err))
}

/// The running emulator's endpoint URL, starting one for this process if needed.
pub fn emulator_url() -> &'static str {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    let emulator = EMULATOR.get_or_init(|| match std::env::var(EMULATOR_URL_VARIABLE) {
        Ok(url) if !url.is_empty() => Emulator { url, _watchdog: None },
        _ => start_emulator(),
    });
    &emulator.url
}

/// An emulator this process uses, and the watchdog shell of the one it started (kept for
/// the life of the process: the shell stops the emulator when the process exits).
struct Emulator {
    url: String,
    _watchdog: Option<std::process::Child>,
}

/// Starts `moto_server` from the project's virtualenv on a free loopback port, watched by a
/// shell that stops it when this process exits.
fn start_emulator() -> Emulator {
    let moto = repo_root().join(".venv/bin/moto_server");
    assert!(
        moto.exists(),
        "the AWS emulator (moto) is not installed at {}: run `scripts/setup` first \
         (the tests need it and never skip)",
        moto.display()
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port");
    let watchdog = format!(
        "'{}' -H 127.0.0.1 -p {port} >/dev/null 2>&1 & child=$!; trap 'kill $child' EXIT; \
         echo started; while kill -0 {} 2>/dev/null; do sleep 1; done",
        moto.display(),
        std::process::id()
    );
    let mut shell = Command::new("bash")
        .arg("-c")
        .arg(watchdog)
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .stdout(Stdio::piped())
        .spawn()
        .expect("bash to start the emulator");
    if let Some(stdout) = shell.stdout.take() {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
    }
    let url = format!("http://127.0.0.1:{port}");
    wait_until_answering(port);
    Emulator { url, _watchdog: Some(shell) }
}

fn wait_until_answering(port: u16) {
    for _ in 0..150 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the AWS emulator did not answer on port {port} within 30 s: see `scripts/emulator`");
}

/// A new 12-digit account id no other test of this run uses.
pub fn fresh_account() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let number = NEXT.fetch_add(1, Ordering::SeqCst);
    let process = std::process::id() % 100_000;
    format!("3{process:05}{number:06}")
}

/// A binding in `account` and `region` that reaches the account by assuming a role in it.
pub fn binding(name: &str, account: &str, region: &str) -> ProviderBinding {
    ProviderBinding {
        name: name.to_owned(),
        account_id: account.to_owned(),
        region: region.to_owned(),
        settings: json!({ "deployer_role_arn": format!("arn:aws:iam::{account}:role/cairn-deployer") }),
    }
}

/// An AWS provider pointed at the emulator with its dummy credentials.
pub fn provider() -> AwsProvider {
    provider_through(emulator_url(), None)
}

/// An AWS provider pointed at `endpoint_url` (the emulator, or a [`proxy::Proxy`] in front
/// of it) with the emulator's dummy credentials, retrying after `initial_backoff` when set.
pub fn provider_through(endpoint_url: &str, initial_backoff: Option<Duration>) -> AwsProvider {
    AwsProvider::new(ProviderOptions {
        endpoint_url: Some(endpoint_url.to_owned()),
        static_credentials: Some(StaticCredentials {
            access_key_id: DUMMY_KEY.to_owned(),
            secret_access_key: DUMMY_KEY.to_owned(),
        }),
        initial_backoff,
    })
}

/// A stack called `name` with the mandatory tags (`CostCenter`, `Environment`) as defaults,
/// and its one binding, `main`, in `account` and `region`.
pub fn tagged_stack(name: &str, account: &str, region: &str) -> (Stack, Binding) {
    let stack = Stack::new(name);
    stack.set_default_tags(tags([("CostCenter", "cc-1"), ("Environment", "test")]));
    let main = stack.provider(binding("main", account, region));
    (stack, main)
}

/// What `plan` does to the resource called `name` (`NoOp` when it has no step for it).
pub fn action_of(plan: &Plan, name: &str) -> Action {
    plan.steps.iter().find(|step| step.name == name).map(|step| step.action).unwrap_or(Action::NoOp)
}

/// A request for a resource of `type_token` called `name` in stack `stack`, as the engine
/// would send it.
pub fn request(
    stack: &str,
    place: &ProviderBinding,
    type_token: &str,
    name: &str,
    inputs: Value,
) -> ResourceRequest {
    ResourceRequest {
        urn: Urn::new(stack, &place.name, type_token, name),
        name: name.to_owned(),
        type_token: type_token.to_owned(),
        binding: place.clone(),
        inputs,
        replacing: None,
    }
}

/// `request` as another resource of stack `stack`, called `name`, would send it: the same
/// type and inputs under another URN (one the resource `request` made is not owned by).
pub fn as_another(stack: &str, request: &ResourceRequest, name: &str) -> ResourceRequest {
    self::request(stack, &request.binding, &request.type_token, name, request.inputs.clone())
}

/// What the state would record of `request` once created with `outputs`.
pub fn recorded(request: &ResourceRequest, outputs: Outputs) -> RecordedResource {
    RecordedResource { inputs: request.inputs.clone(), outputs: Value::Object(outputs) }
}

/// Plans `stack` against an empty state, checks that the plan stops on the stack's
/// declarations with a message naming each of `expected`, and returns that message.
pub fn assert_refused(stack: &Stack, expected: &[&str]) -> String {
    let text = match cairn_engine::plan(&stack.spec(), &cairn_engine::Snapshot::default()) {
        Err(cairn_engine::PlanError::Declarations(errors)) => errors.to_string(),
        other => panic!("the plan must stop on bad input, got {other:?}"),
    };
    for expected in expected {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    text
}

/// Tags as the raw SDK lists them, key to value (a missing key or value is empty): give the
/// pairs as `(tag.key(), tag.value())`, whether the SDK's fields are optional or not.
pub fn tag_map<'a, K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> BTreeMap<String, String>
where
    K: Into<Option<&'a str>>,
    V: Into<Option<&'a str>>,
{
    pairs
        .into_iter()
        .map(|(key, value)| {
            (key.into().unwrap_or_default().to_owned(), value.into().unwrap_or_default().to_owned())
        })
        .collect()
}

/// A stack applied through the real engine and the real provider into a temporary state.
pub struct Harness {
    /// The state, in a temporary directory.
    pub store: cairn_state::Store,
    /// The provider, pointed at the emulator.
    pub provider: std::sync::Arc<AwsProvider>,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// A harness with an empty state.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = cairn_state::Store::open(&dir.path().join("state")).expect("a new state");
        Harness { store, provider: std::sync::Arc::new(provider()), _dir: dir }
    }

    /// A harness with an empty state, a fresh account (see [`fresh_account`]) and that
    /// account's binding `main` in `region`: what most tests start from.
    pub fn with_fresh_account(region: &str) -> (Self, String, ProviderBinding) {
        let account = fresh_account();
        let place = binding("main", &account, region);
        (Harness::new(), account, place)
    }

    /// Plans `stack` against the state and applies it; panics with the failures if any.
    pub async fn apply(&self, stack: &cairn_dsl::Stack) -> cairn_engine::Plan {
        let snapshot = self.store.snapshot().expect("state snapshot");
        let plan = cairn_engine::plan(&stack.spec(), &snapshot).expect("a valid plan");
        self.execute(&plan, cairn_engine::RunKind::Apply).await;
        plan
    }

    /// Destroys everything the state records; panics with the failures if any.
    pub async fn destroy(&self, stack_name: &str) {
        let snapshot = self.store.snapshot().expect("state snapshot");
        let plan = cairn_engine::plan_destroy(stack_name, &snapshot).expect("a destroy plan");
        self.execute(&plan, cairn_engine::RunKind::Destroy).await;
    }

    async fn execute(&self, plan: &cairn_engine::Plan, kind: cairn_engine::RunKind) {
        let options = cairn_engine::ApplyOptions { parallelism: 10, kind, started_at_unix: 0 };
        let provider: std::sync::Arc<dyn cairn_engine::Provider> = self.provider.clone();
        let report =
            cairn_engine::apply(plan, &self.store, provider, options, &cairn_engine::NoProgress)
                .await
                .expect("apply runs");
        assert!(report.succeeded(), "apply failed: {:#?}", report.failed);
    }

    /// The state's record of the resource called `name`.
    pub fn record(&self, name: &str) -> Option<cairn_state::ResourceRecord> {
        let snapshot = self.store.snapshot().expect("state snapshot");
        snapshot.resources.into_values().find(|record| record.name == name)
    }

    /// The recorded output `output` of `name`, as a string.
    pub fn output(&self, name: &str, output: &str) -> String {
        let record = self.record(name).unwrap_or_else(|| panic!("`{name}` is not in the state"));
        record
            .outputs
            .get(output)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    /// Reads `name` back from AWS through the provider, using its recorded state and
    /// `binding`; `None` when AWS says it is gone.
    pub async fn read_back(
        &self,
        name: &str,
        binding: &ProviderBinding,
        record: &cairn_state::ResourceRecord,
    ) -> Option<cairn_engine::Observed> {
        let request = ResourceRequest {
            urn: record.urn.clone().into(),
            name: name.to_owned(),
            type_token: record.type_token.clone(),
            binding: binding.clone(),
            inputs: cairn_engine::value::reveal(&record.inputs),
            replacing: None,
        };
        let prior =
            RecordedResource { inputs: request.inputs.clone(), outputs: record.outputs.clone() };
        self.provider.read(&request, &prior).await.expect("read succeeds")
    }

    /// `name` read back through the provider from its current record; panics when it is not
    /// recorded or AWS says it is gone.
    pub async fn observe(&self, name: &str, binding: &ProviderBinding) -> Observed {
        let record = self.record(name).unwrap_or_else(|| panic!("`{name}` is not recorded"));
        let observed = self.read_back(name, binding, &record).await;
        observed.unwrap_or_else(|| panic!("`{name}` is gone from AWS"))
    }

    /// `name` read back (as [`Harness::observe`]), checking that every input the state
    /// records (what the program asked for), but those in `unreadable`, is what AWS reports.
    pub async fn observe_as_recorded(
        &self,
        name: &str,
        binding: &ProviderBinding,
        unreadable: &[&str],
    ) -> Observed {
        let observed = self.observe(name, binding).await;
        let record = self.record(name).unwrap_or_else(|| panic!("`{name}` is not recorded"));
        let asked = record.inputs.as_object().expect("recorded inputs are an object");
        for (property, value) in
            asked.iter().filter(|(property, _)| !unreadable.contains(&property.as_str()))
        {
            assert_eq!(
                observed.inputs.get(property),
                Some(value),
                "`{name}` property `{property}`"
            );
        }
        observed
    }

    /// Whether the resource `record` describes is gone from AWS, read through the provider.
    pub async fn is_gone(
        &self,
        binding: &ProviderBinding,
        record: &cairn_state::ResourceRecord,
    ) -> bool {
        self.read_back(&record.name, binding, record).await.is_none()
    }

    /// The provider's clients of `binding`, to look at AWS with the raw SDK.
    pub async fn clients(&self, binding: &ProviderBinding) -> Arc<Clients> {
        self.provider.clients(binding).await.expect("clients for the binding")
    }

    /// Creates `request` through the provider as an interrupted apply would (the state never
    /// hears of it), checks that `find_owned` finds it (and passes over it when told it is the
    /// resource a replacement replaces), and returns its outputs.
    pub async fn create_and_find(&self, request: &ResourceRequest) -> Outputs {
        let created = self.provider.create(request).await.expect("created");
        let found = self.provider.find_owned(request, None).await.expect("looked up");
        assert_eq!(
            found.as_ref().and_then(|found| found.get("id")),
            created.get("id"),
            "{} is found by find_owned",
            request.name
        );
        let id = created.get("id").and_then(Value::as_str);
        let excluded = self.provider.find_owned(request, id).await.expect("looked up");
        assert_eq!(excluded, None, "{} is passed over when it is the replaced one", request.name);
        created
    }
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}
