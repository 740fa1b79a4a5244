//! `cairn-provider-aws`: the AWS provider as a plugin process. A cairn program starts it for
//! the commands that reach the cloud and speaks to it over stdio (`cairn_plugin::protocol`);
//! it is the only binary that links the AWS SDK. Not run by hand.

// A binary: it reports on its own standard streams.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::sync::Arc;

use cairn_aws::{AwsProvider, ProviderOptions};
use cairn_engine::Provider;
use cairn_plugin::protocol::Handshake;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: the AWS provider plugin cannot start its async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let handshake =
        Handshake { protocol: 0, name: "aws".into(), version: env!("CARGO_PKG_VERSION").into() };
    let served = runtime.block_on(cairn_plugin::serve(
        tokio::io::stdin(),
        tokio::io::stdout(),
        handshake,
        |settings| {
            cairn_plugin::init_logging(settings.verbosity);
            let options = ProviderOptions {
                endpoint_url: settings.endpoint_url.clone(),
                static_credentials: None,
                initial_backoff: None,
            };
            Ok(Arc::new(AwsProvider::new(options)) as Arc<dyn Provider>)
        },
    ));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
