//! The protocol end to end: a real plugin process (`examples/memory_plugin.rs`, serving the
//! in-memory cloud) driven through [`PluginProvider`].

use std::path::PathBuf;
use std::time::Duration;

use cairn_engine::{Provider, ProviderBinding, RecordedResource, ResourceRequest, Urn};
use cairn_plugin::PluginProvider;
use cairn_plugin::protocol::Configure;
use serde_json::json;

/// The example plugin, built by `cargo test` beside this test's executable.
fn memory_plugin() -> PathBuf {
    let deps = std::env::current_exe().expect("test executable");
    let debug = deps.parent().and_then(|deps| deps.parent()).expect("target profile dir");
    let plugin = debug.join("examples").join("memory_plugin");
    assert!(plugin.exists(), "cargo test builds the example plugin at {}", plugin.display());
    plugin
}

fn start() -> PluginProvider {
    PluginProvider::start(&memory_plugin(), Configure::default()).expect("the plugin starts")
}

fn request(name: &str) -> ResourceRequest {
    ResourceRequest {
        urn: Urn::new("test", "main", "test:Thing", name),
        name: name.into(),
        type_token: "test:Thing".into(),
        binding: ProviderBinding {
            name: "main".into(),
            account_id: "000000000000".into(),
            region: "local-1".into(),
            settings: serde_json::Value::Null,
        },
        inputs: json!({"size": 3, "secret": "revealed only to the plugin"}),
        replacing: None,
    }
}

/// Fails the test instead of hanging it when an answer never comes.
async fn bounded<T>(call: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), call).await.expect("the plugin answered")
}

#[tokio::test]
async fn every_call_of_the_trait_round_trips_through_the_process() {
    let plugin = start();
    assert_eq!(plugin.handshake().name, "memory");
    let thing = request("thing");
    bounded(plugin.check_bindings(std::slice::from_ref(&thing.binding))).await.expect("bindings");
    let outputs = bounded(plugin.create(&thing)).await.expect("created");
    let id = outputs.get("id").cloned().expect("an id");
    let prior = RecordedResource { inputs: thing.inputs.clone(), outputs: json!(outputs) };
    let observed = bounded(plugin.read(&thing, &prior)).await.expect("read").expect("present");
    assert_eq!(observed.outputs.get("id"), Some(&id));
    let found = bounded(plugin.find_owned(&thing, None)).await.expect("found").expect("owned");
    assert_eq!(found.get("id"), Some(&id));
    let bigger = ResourceRequest { inputs: json!({"size": 4}), ..thing.clone() };
    bounded(plugin.update(&bigger, &prior)).await.expect("updated");
    bounded(plugin.delete(&bigger, &prior)).await.expect("deleted");
    let gone = bounded(plugin.read(&thing, &prior)).await.expect("read after delete");
    assert_eq!(gone, None, "a deleted resource reads as gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_in_flight_together_not_one_after_another() {
    let plugin = std::sync::Arc::new(start());
    let mut calls = tokio::task::JoinSet::new();
    for index in 0..5 {
        let plugin = plugin.clone();
        // The plugin answers none of these until all five are in flight.
        calls.spawn(async move { plugin.create(&request(&format!("together-{index}"))).await });
    }
    let mut ids = Vec::new();
    while let Some(answer) = bounded(calls.join_next()).await {
        let outputs = answer.expect("task").expect("created");
        ids.push(outputs["id"].as_str().expect("id").to_owned());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "each call got its own answer");
}

#[tokio::test]
async fn a_provider_error_arrives_as_it_was_raised() {
    let plugin = start();
    let thing = request("never-created");
    let prior = RecordedResource { inputs: json!({}), outputs: json!({"id": "missing"}) };
    let error = bounded(plugin.update(&thing, &prior)).await.expect_err("nothing to update");
    let direct = cairn_engine::memory::MemoryCloud::new()
        .update(&thing, &prior)
        .await
        .expect_err("nothing to update in memory either");
    assert_eq!(error, direct, "the same error, its not_found flag included");
}

#[tokio::test]
async fn a_plugin_that_dies_fails_the_call_in_flight_and_every_later_one() {
    let plugin = start();
    let error = bounded(plugin.create(&request("exit-now"))).await.expect_err("it died");
    assert!(error.message.contains("stopped before answering"), "{}", error.message);
    assert!(error.message.contains("unknown"), "says the effect is unknown: {}", error.message);
    let later = bounded(plugin.create(&request("after"))).await.expect_err("still dead");
    assert!(later.message.contains("stopped before answering"), "{}", later.message);
}

#[tokio::test]
async fn a_provider_that_panics_answers_that_call_with_an_error_and_goes_on() {
    let plugin = start();
    let error = bounded(plugin.create(&request("panic-now"))).await.expect_err("it panicked");
    assert!(error.message.contains("failed inside the plugin"), "{}", error.message);
    assert!(error.message.contains("unknown"), "says the effect is unknown: {}", error.message);
    bounded(plugin.create(&request("after"))).await.expect("the plugin still serves");
}

#[test]
fn a_program_that_is_not_a_plugin_is_refused_at_start() {
    let error = PluginProvider::start(std::path::Path::new("true"), Configure::default())
        .expect_err("`true` is no plugin");
    assert!(error.to_string().contains("did not start as a plugin"), "{error}");
    let missing =
        PluginProvider::start(std::path::Path::new("/nonexistent/plugin"), Configure::default())
            .expect_err("no such file");
    assert!(missing.to_string().contains("CAIRN_PROVIDER_AWS"), "says how to fix it: {missing}");
}
