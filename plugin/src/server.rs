//! The plugin's side of the protocol: answers calls with a provider, many at once.

use std::sync::Arc;

use cairn_engine::Provider;
use serde::Serialize;
use thiserror::Error;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::protocol::{Call, Configure, Handshake, Outcome, PROTOCOL_VERSION, Request, Response};

/// Why a plugin stopped serving.
#[derive(Debug, Error)]
pub enum ServeError {
    /// Its input or output failed.
    #[error("the provider plugin's standard input or output failed: {0}")]
    Io(#[from] std::io::Error),
    /// A line was not a request of this protocol.
    #[error(
        "the provider plugin received a line that is not a request of protocol {PROTOCOL_VERSION} \
         ({0}): start it from a cairn program, not by hand"
    )]
    Malformed(String),
    /// The first request was not `configure`, or could not be honoured.
    #[error("the provider plugin could not be configured: {0}")]
    Configure(String),
}

/// Serves the protocol on `input` and `output` until `input` ends, then waits for the calls
/// still in flight and writes their answers. The first request must be `configure`: `make`
/// builds the provider from it, and `handshake` is the answer (its protocol version is set
/// here).
pub async fn serve<R, W>(
    input: R,
    output: W,
    handshake: Handshake,
    make: impl FnOnce(&Configure) -> Result<Arc<dyn Provider>, String>,
) -> Result<(), ServeError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let mut lines = BufReader::new(input).lines();
    let (answers, answered) = mpsc::unbounded_channel();
    let writer = tokio::spawn(write_answers(output, answered));
    let provider = configure(&mut lines, &answers, handshake, make).await;
    let mut calls = JoinSet::new();
    let served = match provider {
        Ok(provider) => read_calls(&mut lines, &provider, &answers, &mut calls).await,
        Err(error) => Err(error),
    };
    while calls.join_next().await.is_some() {}
    drop(answers);
    let written = writer.await.map_err(|error| ServeError::Io(std::io::Error::other(error)))?;
    served.and(written)
}

/// Reads the `configure` request, builds the provider and answers.
async fn configure<R: AsyncRead + Unpin>(
    lines: &mut tokio::io::Lines<BufReader<R>>,
    answers: &mpsc::UnboundedSender<Response>,
    handshake: Handshake,
    make: impl FnOnce(&Configure) -> Result<Arc<dyn Provider>, String>,
) -> Result<Arc<dyn Provider>, ServeError> {
    let Some(line) = lines.next_line().await? else {
        return Err(ServeError::Configure("its input ended before `configure`".into()));
    };
    let request = parse(&line)?;
    let refuse = |message: String| {
        let _ = answers.send(failure(request.id, message.clone()));
        ServeError::Configure(message)
    };
    let Call::Configure(settings) = &request.call else {
        return Err(refuse("the first request must be `configure`".into()));
    };
    if settings.protocol != PROTOCOL_VERSION {
        return Err(refuse(format!(
            "the program speaks protocol {} but this plugin speaks {PROTOCOL_VERSION}: build the \
             program and the plugin from the same cairn",
            settings.protocol
        )));
    }
    let provider = make(settings).map_err(refuse)?;
    let handshake = Handshake { protocol: PROTOCOL_VERSION, ..handshake };
    let _ = answers.send(success(request.id, &handshake));
    Ok(provider)
}

/// Starts a task for every request until the input ends.
async fn read_calls<R: AsyncRead + Unpin>(
    lines: &mut tokio::io::Lines<BufReader<R>>,
    provider: &Arc<dyn Provider>,
    answers: &mpsc::UnboundedSender<Response>,
    calls: &mut JoinSet<()>,
) -> Result<(), ServeError> {
    while let Some(line) = lines.next_line().await? {
        let request = parse(&line)?;
        let provider = provider.clone();
        let answers = answers.clone();
        calls.spawn(async move {
            // The call runs in a task of its own so that a provider that panics still gets
            // its call answered (with an error) instead of leaving the program waiting.
            let call = tokio::spawn(async move { answer(provider.as_ref(), request.call).await });
            let outcome = call.await.unwrap_or_else(|failure| {
                Outcome::Error(cairn_engine::ProviderError::new(format!(
                    "the provider failed inside the plugin ({failure}): what the call did in the \
                     cloud is unknown, so run the command again and cairn settles it from the \
                     journal; report this as a bug"
                )))
            });
            let _ = answers.send(Response { id: request.id, outcome });
        });
    }
    Ok(())
}

/// Calls the provider as `call` asks.
async fn answer(provider: &dyn Provider, call: Call) -> Outcome {
    let result = match call {
        Call::Configure(_) => {
            return Outcome::Error(cairn_engine::ProviderError::new(
                "the plugin is configured already: send `configure` once, first",
            ));
        }
        Call::CheckBindings { bindings } => provider.check_bindings(&bindings).await.map(to_value),
        Call::Create { request } => provider.create(&request).await.map(to_value),
        Call::ReadDataSource { request } => provider.read_data_source(&request).await.map(to_value),
        Call::Update { request, prior } => provider.update(&request, &prior).await.map(to_value),
        Call::Delete { request, prior } => provider.delete(&request, &prior).await.map(to_value),
        Call::Read { request, prior } => provider.read(&request, &prior).await.map(to_value),
        Call::FindOwned { request, excluding } => {
            provider.find_owned(&request, excluding.as_deref()).await.map(to_value)
        }
    };
    match result {
        Ok(value) => Outcome::Ok(value),
        Err(error) => Outcome::Error(error),
    }
}

/// Writes every answer as one line, flushing each so the program is never kept waiting.
async fn write_answers<W: AsyncWrite + Unpin>(
    mut output: W,
    mut answered: mpsc::UnboundedReceiver<Response>,
) -> Result<(), ServeError> {
    while let Some(response) = answered.recv().await {
        let mut line = serde_json::to_vec(&response)
            .map_err(|error| ServeError::Io(std::io::Error::other(error)))?;
        line.push(b'\n');
        output.write_all(&line).await?;
        output.flush().await?;
    }
    Ok(())
}

fn parse(line: &str) -> Result<Request, ServeError> {
    serde_json::from_str(line).map_err(|error| ServeError::Malformed(error.to_string()))
}

fn to_value(value: impl Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

fn success(id: u64, value: &impl Serialize) -> Response {
    Response { id, outcome: Outcome::Ok(to_value(value)) }
}

fn failure(id: u64, message: String) -> Response {
    Response { id, outcome: Outcome::Error(cairn_engine::ProviderError::new(message)) }
}
