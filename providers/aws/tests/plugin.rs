//! The `cairn-provider-aws` plugin as a program runs it: started as a process, configured
//! over stdio, its SDK errors arriving as sentences. Pointed at a loopback port nothing
//! listens on, so it needs no emulator; the end-to-end tests in `tests/` drive it against
//! one.

use std::path::Path;

use cairn_engine::{Provider, ProviderBinding};
use cairn_plugin::PluginProvider;
use cairn_plugin::protocol::Configure;

fn start() -> PluginProvider {
    let settings =
        Configure { endpoint_url: Some("http://127.0.0.1:9".into()), ..Configure::default() };
    PluginProvider::start(Path::new(env!("CARGO_BIN_EXE_cairn-provider-aws")), settings)
        .expect("the plugin starts and answers its handshake")
}

#[test]
fn the_plugin_introduces_itself() {
    let plugin = start();
    assert_eq!(plugin.handshake().name, "aws");
    assert_eq!(plugin.handshake().version, env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_sentence_naming_the_binding() {
    let plugin = start();
    let binding = ProviderBinding {
        name: "trading".into(),
        account_id: "000000000000".into(),
        region: "us-east-1".into(),
        settings: serde_json::Value::Null,
    };
    let error = plugin.check_bindings(&[binding]).await.expect_err("nothing listens there");
    assert!(error.message.contains("binding `trading`"), "{}", error.message);
    assert!(!error.message.contains("DispatchFailure {"), "no Debug dump: {}", error.message);
}
