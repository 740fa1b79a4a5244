//! The provider plugin protocol: a [`Provider`] that lives in a process of its own and is
//! spoken to over its standard input and output, the way Terraform talks to its provider
//! plugins.
//!
//! A cairn program links the engine, the state store and the DSL, but not the AWS SDK: the
//! SDK is built once, into the `cairn-provider-aws` plugin, and a program's binary starts
//! that plugin only for the commands that reach the cloud. Editing a program therefore never
//! recompiles or relinks the SDK.
//!
//! - [`PluginProvider`] is the program's side: it starts the plugin, hands it every call of
//!   the [`Provider`] trait and waits for the answers, many calls in flight at once.
//! - [`serve`] is the plugin's side: it answers calls with any [`Provider`].
//! - [`protocol`] is what travels between them: one JSON object per line, each request
//!   carrying an id its response repeats.
//!
//! [`Provider`]: cairn_engine::Provider

mod client;
pub mod protocol;
mod server;

pub use client::{PluginError, PluginProvider};
pub use server::{ServeError, serve};

/// Sets up the logs of a binary of cairn (a program's or a plugin's, alike): to standard
/// error, at `verbosity` (`-v` counted: warnings, then info, debug, trace; the SDK's own
/// trace, which holds request and response bodies, is never on by default), unless
/// `RUST_LOG` says otherwise. For `main` only: it reads the environment.
pub fn init_logging(verbosity: u8) {
    let default = match verbosity {
        0 => "warn",
        1 => "info,aws_config=warn,aws_smithy_runtime=warn",
        2 => "debug,aws_smithy_runtime=info,hyper=info",
        // Everything of cairn's own; the SDK and its HTTP stack at debug, because at trace they
        // print request and response bodies (IAM echoes trust policies, external ids
        // included). RUST_LOG can still ask for them.
        _ => {
            "trace,aws_smithy_runtime=debug,aws_smithy_runtime_api=debug,aws_smithy_http=debug,\
             aws_smithy_http_client=debug,aws_smithy_types=debug,aws_runtime=debug,\
             aws_sigv4=debug,aws_config=debug,hyper=debug,hyper_util=debug,h2=debug"
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
