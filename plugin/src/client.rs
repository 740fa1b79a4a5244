//! The program's side of the protocol: a [`Provider`] whose calls are answered by a plugin
//! process.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use cairn_engine::{
    Observed, Outputs, Provider, ProviderBinding, ProviderError, RecordedResource, ResourceRequest,
};
use serde::de::DeserializeOwned;
use thiserror::Error;
use tokio::sync::oneshot;

use crate::protocol::{Call, Configure, Handshake, Outcome, PROTOCOL_VERSION, Request, Response};

/// How long a plugin may take to answer `configure` before it is given up on.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);
/// How often, [`EXIT_POLL`] apart, a plugin is checked for having exited once its input is
/// closed, before it is killed (30 s in all).
const EXIT_CHECKS: u32 = 6_000;
/// The pause between two checks for a plugin's exit.
const EXIT_POLL: Duration = Duration::from_millis(5);

/// Why a plugin could not be started.
#[derive(Debug, Error)]
pub enum PluginError {
    /// The executable could not be run.
    #[error(
        "cannot start the provider plugin {program}: {source}; build it or point CAIRN_PROVIDER_AWS at it"
    )]
    Start {
        /// The executable.
        program: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// It did not answer `configure` as the protocol asks.
    #[error("the provider plugin {program} did not start as a plugin: {message}")]
    Handshake {
        /// The executable.
        program: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// A provider in a process of its own, started by [`PluginProvider::start`] and stopped when
/// this is dropped. Calls may be made from many tasks at once; each is answered as soon as
/// the plugin answers it.
#[derive(Debug)]
pub struct PluginProvider {
    shared: Arc<Shared>,
    input: Mutex<Option<ChildStdin>>,
    child: Mutex<Child>,
    handshake: Handshake,
    next_id: AtomicU64,
}

/// What the reader thread shares with the callers.
#[derive(Debug)]
struct Shared {
    program: PathBuf,
    /// The calls waiting for an answer, by request id; `None` once the plugin has stopped.
    waiting: Mutex<Option<HashMap<u64, oneshot::Sender<Outcome>>>>,
}

impl PluginProvider {
    /// Starts `program` as a plugin, configured with `settings` (its protocol version is set
    /// here), and waits for its handshake.
    pub fn start(program: &Path, settings: Configure) -> Result<Self, PluginError> {
        let mut child = Command::new(program)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| PluginError::Start { program: program.to_owned(), source })?;
        let handshake_failed =
            |message: String| PluginError::Handshake { program: program.to_owned(), message };
        let (Some(mut input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err(handshake_failed("its standard input and output are not pipes".into()));
        };
        let configure = Request {
            id: 0,
            call: Call::Configure(Configure { protocol: PROTOCOL_VERSION, ..settings }),
        };
        let shared = Arc::new(Shared {
            program: program.to_owned(),
            waiting: Mutex::new(Some(HashMap::new())),
        });
        let (greeted, greeting) = std::sync::mpsc::channel();
        let reader = shared.clone();
        std::thread::spawn(move || reader.read_answers(output, greeted));
        let handshake = write_line(&mut input, &configure)
            .map_err(|error| handshake_failed(format!("writing `configure` failed: {error}")))
            .and_then(|()| {
                greeting
                    .recv_timeout(HANDSHAKE_TIMEOUT)
                    .map_err(|_| handshake_failed("it gave no answer to `configure`".into()))?
                    .map_err(handshake_failed)
            });
        let handshake = match handshake {
            Ok(handshake) => handshake,
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(error);
            }
        };
        Ok(PluginProvider {
            shared,
            input: Mutex::new(Some(input)),
            child: Mutex::new(child),
            handshake,
            next_id: AtomicU64::new(1),
        })
    }

    /// What the plugin said of itself.
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// Sends `call` and waits for its answer, read as `T`.
    async fn call<T: DeserializeOwned>(&self, call: Call) -> Result<T, ProviderError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (answer, answered) = oneshot::channel();
        match lock(&self.shared.waiting).as_mut() {
            Some(waiting) => waiting.insert(id, answer),
            None => return Err(self.shared.stopped()),
        };
        let sent = match lock(&self.input).as_mut() {
            Some(input) => write_line(input, &Request { id, call }),
            None => Err(std::io::Error::other("its input is closed")),
        };
        if sent.is_err() {
            if let Some(waiting) = lock(&self.shared.waiting).as_mut() {
                waiting.remove(&id);
            }
            return Err(self.shared.stopped());
        }
        match answered.await.map_err(|_| self.shared.stopped())? {
            Outcome::Ok(value) => serde_json::from_value(value).map_err(|error| {
                ProviderError::new(format!(
                    "the provider plugin {} answered with something this cairn cannot read \
                     ({error}): build the program and the plugin from the same cairn",
                    self.shared.program.display()
                ))
            }),
            Outcome::Error(error) => Err(error),
        }
    }
}

impl Shared {
    /// Reads the handshake, hands it to `greeted`, then every answer to the call waiting for
    /// it, until the plugin's output ends; then fails every call still waiting.
    fn read_answers(
        &self,
        output: ChildStdout,
        greeted: std::sync::mpsc::Sender<Result<Handshake, String>>,
    ) {
        let mut lines = BufReader::new(output).lines();
        let greeting = match lines.next() {
            Some(Ok(line)) => read_handshake(&line),
            Some(Err(error)) => Err(format!("reading its answer failed: {error}")),
            None => Err("it exited before answering `configure`".into()),
        };
        let configured = greeting.is_ok();
        let _ = greeted.send(greeting);
        if configured {
            for line in lines {
                let Ok(line) = line else { break };
                let Ok(response) = serde_json::from_str::<Response>(&line) else {
                    tracing::error!(plugin = %self.program.display(), "unreadable answer from the provider plugin");
                    break;
                };
                let answer =
                    lock(&self.waiting).as_mut().and_then(|waiting| waiting.remove(&response.id));
                if let Some(answer) = answer {
                    let _ = answer.send(response.outcome);
                }
            }
        }
        // Dropping the senders wakes every caller still waiting with `stopped`.
        lock(&self.waiting).take();
    }

    /// The error of a call the plugin will never answer.
    fn stopped(&self) -> ProviderError {
        ProviderError::new(format!(
            "the provider plugin {} stopped before answering (its own messages, if any, are \
             above): what the call did in the cloud is unknown, so run the command again and \
             cairn settles it from the journal",
            self.program.display()
        ))
    }
}

fn read_handshake(line: &str) -> Result<Handshake, String> {
    let response: Response = serde_json::from_str(line).map_err(|error| {
        format!("its first line is not an answer of protocol {PROTOCOL_VERSION}: {error}")
    })?;
    let handshake = match response.outcome {
        Outcome::Ok(value) => serde_json::from_value::<Handshake>(value)
            .map_err(|error| format!("its handshake is unreadable: {error}"))?,
        Outcome::Error(error) => return Err(error.message),
    };
    if handshake.protocol != PROTOCOL_VERSION {
        return Err(format!(
            "it speaks protocol {} but this program speaks {PROTOCOL_VERSION}: build the program \
             and the plugin from the same cairn",
            handshake.protocol
        ));
    }
    Ok(handshake)
}

fn write_line(input: &mut ChildStdin, request: &Request) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(request).map_err(std::io::Error::other)?;
    line.push(b'\n');
    input.write_all(&line)?;
    input.flush()
}

/// Locks `mutex`, whose data stays consistent even if a holder panicked.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Drop for PluginProvider {
    /// Closes the plugin's input, so it finishes what is in flight and exits; kills it if it
    /// has not exited after [`EXIT_CHECKS`] checks.
    fn drop(&mut self) {
        lock(&self.input).take();
        let mut child = lock(&self.child);
        for _ in 0..EXIT_CHECKS {
            match child.try_wait() {
                Ok(None) => std::thread::sleep(EXIT_POLL),
                _ => return,
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[async_trait]
impl Provider for PluginProvider {
    async fn check_bindings(&self, bindings: &[ProviderBinding]) -> Result<(), ProviderError> {
        self.call(Call::CheckBindings { bindings: bindings.to_vec() }).await
    }

    async fn create(&self, request: &ResourceRequest) -> Result<Outputs, ProviderError> {
        self.call(Call::Create { request: request.clone() }).await
    }

    async fn read_data_source(&self, request: &ResourceRequest) -> Result<Outputs, ProviderError> {
        self.call(Call::ReadDataSource { request: request.clone() }).await
    }

    async fn update(
        &self,
        request: &ResourceRequest,
        prior: &RecordedResource,
    ) -> Result<Outputs, ProviderError> {
        self.call(Call::Update { request: request.clone(), prior: prior.clone() }).await
    }

    async fn delete(
        &self,
        request: &ResourceRequest,
        prior: &RecordedResource,
    ) -> Result<(), ProviderError> {
        self.call(Call::Delete { request: request.clone(), prior: prior.clone() }).await
    }

    async fn read(
        &self,
        request: &ResourceRequest,
        prior: &RecordedResource,
    ) -> Result<Option<Observed>, ProviderError> {
        self.call(Call::Read { request: request.clone(), prior: prior.clone() }).await
    }

    async fn find_owned(
        &self,
        request: &ResourceRequest,
        excluding: Option<&str>,
    ) -> Result<Option<Outputs>, ProviderError> {
        let excluding = excluding.map(str::to_owned);
        self.call(Call::FindOwned { request: request.clone(), excluding }).await
    }
}
