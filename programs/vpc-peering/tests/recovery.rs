//! `apply` and `destroy` settle what an interrupted run left in the journal before anything
//! else, the way the binaries run them, against the in-memory cloud.

mod common;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use cairn_cli::{self as cli, ApplyArgs, CloudArgs, ProviderSource, StackArgs};
use cairn_engine::Provider;
use cairn_engine::memory::MemoryCloud;
use cairn_state::{PendingKind, PendingOperation, Store};
use common::{default_config, run_captured};
use serde_json::json;

struct Memory(Arc<MemoryCloud>);

impl ProviderSource for Memory {
    fn provider(&self, _endpoint_url: Option<&str>) -> anyhow::Result<Arc<dyn Provider>> {
        Ok(self.0.clone())
    }
}

/// A cloud holding the secret the peering program looks up.
fn cloud() -> Arc<MemoryCloud> {
    let cloud = Arc::new(MemoryCloud::new());
    let arn = "arn:aws:secretsmanager:us-east-1:222222222222:secret:external-id";
    let outputs = json!({"id": arn, "arn": arn, "name": "external-id", "value": "ext-id-0123"});
    let outputs = outputs.as_object().cloned().unwrap_or_default();
    cloud.seed("aws:secretsmanager/SecretValue", "accepter-external-id", "b", outputs);
    cloud
}

/// Runs `command` (`apply` or `destroy`, with `--yes`) and returns its exit code and what it
/// printed.
fn run(command: &str, state: &Path, cloud: &Arc<MemoryCloud>) -> (ExitCode, String) {
    let args = ApplyArgs {
        stack: StackArgs { config: default_config(), state: state.to_owned() },
        cloud: CloudArgs { yes: true, parallelism: 10, endpoint_url: None },
        plan: None,
        outputs: state.join("outputs.json"),
        adopt_owned: false,
    };
    let providers = Memory(cloud.clone());
    run_captured(&vpc_peering::Peering, &providers, Vec::new(), None, |io| match command {
        "apply" => cli::apply(&args, io),
        _ => cli::destroy(&args, io),
    })
}

#[test]
fn destroy_first_deletes_a_replaced_resource_an_interrupted_run_left() {
    let temp = tempfile::tempdir().expect("temp dir");
    let state = temp.path().join("state");
    let cloud = cloud();
    let (code, err) = run("apply", &state, &cloud);
    assert_eq!(code, ExitCode::SUCCESS, "{err}");
    // What a run stopped between a create-first replacement and the delete of the old
    // resource leaves: the old resource in the cloud, remembered only by the journal.
    let vpc = {
        let store = Store::open(&state).expect("open");
        let snapshot = store.snapshot().expect("snapshot");
        let vpc = snapshot.resources.values().find(|r| r.name == "trading-vpc").cloned();
        let vpc = vpc.expect("the trading VPC is recorded");
        let old = cloud.resources().into_iter().find(|(_, r)| r.name == "trading-vpc");
        let (_, old) = old.expect("the VPC exists in the cloud");
        cloud.seed(&vpc.type_token, "old-trading-vpc", &old.location, old.outputs.clone());
        store
            .journal_begin(&PendingOperation {
                urn: vpc.urn.clone(),
                type_token: vpc.type_token.clone(),
                name: vpc.name.clone(),
                binding: vpc.binding.clone(),
                kind: PendingKind::DeleteReplaced,
                inputs: vpc.inputs.clone(),
                prior_outputs: json!({"id": "seed-old-trading-vpc"}),
                started_at_unix: 1,
                dependencies: vpc.dependencies.clone(),
            })
            .expect("journal");
        vpc
    };
    assert!(cloud.resources().contains_key("seed-old-trading-vpc"));

    let (code, err) = run("destroy", &state, &cloud);

    assert_eq!(code, ExitCode::SUCCESS, "{err}");
    assert!(err.contains(&format!("deleted the resource `{}` replaced", vpc.name)), "{err}");
    assert_eq!(cloud.resources().keys().collect::<Vec<_>>(), ["seed-accepter-external-id"]);
    let snapshot = Store::read_snapshot(&state).expect("read");
    assert!(snapshot.resources.is_empty() && snapshot.pending.is_empty(), "{snapshot:#?}");
}
