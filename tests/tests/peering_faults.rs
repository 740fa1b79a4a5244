//! The peering program applied through a proxy that fails calls as AWS does under load (503
//! with HTML bodies, 500 with truncated bodies, each protocol's throttling error), and with
//! one action failing every time. After each run, what is in both accounts is counted
//! through the SDK and compared with a clean apply: nothing doubled, nothing left behind,
//! no security group left with AWS's allow-all egress.
//!
//! The commands retry from a 50 ms first pause instead of the SDK's one second, so that the
//! tests take seconds rather than minutes; the attempts and the retry rules are the ones the
//! binaries use.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Duration;

use cairn_aws::Clients;
use cairn_tests::emulator_url;
use cairn_tests::peering::{Deployment, filter};
use cairn_tests::proxy::{Fault, FaultPlan, Proxy};

const BACKOFF: Duration = Duration::from_millis(50);

/// What a clean apply of the program leaves in AWS, counted once per test process.
fn clean_counts() -> &'static BTreeMap<String, usize> {
    static CLEAN: OnceLock<BTreeMap<String, usize>> = OnceLock::new();
    CLEAN.get_or_init(|| {
        let clean = Deployment::new("us-east-1");
        clean.seed_secret();
        clean.apply();
        let counts = clean.counts();
        clean.destroy();
        assert!(clean.inventory().is_empty(), "a clean destroy leaves nothing");
        counts
    })
}

/// Runs `command` once more if it failed the first time; the second run must succeed.
fn converges(what: &str, command: impl Fn() -> (ExitCode, String)) -> String {
    let (code, first) = command();
    if code == ExitCode::SUCCESS {
        return first;
    }
    let (code, second) = command();
    assert_eq!(code, ExitCode::SUCCESS, "{what} converges on the second run:\n{first}\n{second}");
    second
}

#[test]
fn an_apply_with_a_fifth_of_the_calls_failing_makes_each_resource_once_and_destroys_clean() {
    let expected = clean_counts();
    let proxy = Proxy::start(emulator_url(), FaultPlan { seed: 20_261_204, percent: 20 });
    let faulty = Deployment::through("us-east-1", proxy.url(), BACKOFF);
    faulty.seed_secret();

    let applied = converges("apply", || faulty.try_apply());

    assert!(applied.contains("Apply complete!"), "{applied}");
    assert_eq!(&faulty.counts(), expected, "the same resources as a clean apply, none twice");
    let again = faulty.plan();
    assert!(again.contains("No changes."), "nothing half made is left to finish: {again}");
    let refreshed = faulty.refresh();
    assert!(refreshed.contains("No drift: 143 in sync."), "{refreshed}");
    let counts = proxy.counts();
    for fault in [Fault::UnavailableHtml, Fault::InternalTruncated, Fault::Throttled] {
        assert!(counts.faulted.get(&fault).copied().unwrap_or(0) > 20, "{counts:?}");
    }

    converges("destroy", || faulty.try_destroy());
    let left = faulty.inventory();
    assert!(left.is_empty(), "nothing left behind: {left:#?}");
}

#[test]
fn a_group_whose_default_egress_cannot_be_revoked_is_never_left_open() {
    let expected = clean_counts();
    let proxy = Proxy::start(emulator_url(), FaultPlan::default());
    proxy.fail_action("RevokeSecurityGroupEgress");
    let deployment = Deployment::through("us-east-1", proxy.url(), BACKOFF);
    deployment.seed_secret();

    let (code, failed) = deployment.try_apply();

    assert_ne!(code, ExitCode::SUCCESS, "{failed}");
    assert!(failed.contains("deleted again rather than left allowing all egress"), "{failed}");
    assert!(
        failed.contains("AWS answered HTTP 503 with a body that is not an AWS error"),
        "{failed}"
    );
    assert!(!failed.contains("unhandled error"), "a sentence, not the SDK's words: {failed}");
    assert!(proxy.counts().failed_by_rule["RevokeSecurityGroupEgress"] >= 8, "every attempt");
    let half = deployment.counts();
    assert!(!half.contains_key("trading/sg") && !half.contains_key("analytics/sg"), "{half:#?}");
    assert_no_group_allows_all_egress(&deployment);

    proxy.clear_action_rules();
    deployment.apply();

    assert_eq!(&deployment.counts(), expected, "each group made once");
    assert_no_group_allows_all_egress(&deployment);
    let again = deployment.plan();
    assert!(again.contains("No changes."), "{again}");
    deployment.destroy();
    assert!(deployment.inventory().is_empty());
}

#[test]
fn a_create_whose_answer_was_lost_after_it_took_effect_is_found_not_made_twice() {
    let expected = clean_counts();
    let proxy = Proxy::start(emulator_url(), FaultPlan::default());
    // Creates AWS does not make idempotent (no client token, no unique name), and two that
    // are refused the second time by name.
    let lost = [
        "CreateVpc",
        "CreateSubnet",
        "CreateVpcPeeringConnection",
        "CreateKey",
        "CreateRole",
        "CreateLogGroup",
    ];
    for action in lost {
        proxy.lose_answers(action, 1);
    }
    let deployment = Deployment::through("us-east-1", proxy.url(), BACKOFF);
    deployment.seed_secret();

    let applied = converges("apply", || deployment.try_apply());

    assert!(applied.contains("Apply complete!"), "{applied}");
    let counts = proxy.counts();
    for action in lost {
        assert_eq!(counts.answers_lost.get(action), Some(&1), "{action} lost once: {counts:?}");
    }
    assert_eq!(&deployment.counts(), expected, "each resource made once, whatever was lost");
    let again = deployment.plan();
    assert!(again.contains("No changes."), "{again}");
    deployment.destroy();
    assert!(deployment.inventory().is_empty());
}

/// No security group in either account but the VPCs' default ones allows all egress.
fn assert_no_group_allows_all_egress(deployment: &Deployment) {
    for binding in [&deployment.trading, &deployment.analytics] {
        let clients = deployment.clients(binding);
        let open = deployment.runtime.block_on(groups_allowing_all_egress(&clients));
        assert!(open.is_empty(), "open to everything in {}: {open:?}", binding.account_id);
    }
}

async fn groups_allowing_all_egress(clients: &Clients) -> Vec<String> {
    let found = clients
        .ec2
        .describe_security_groups()
        .filters(filter("tag-key", cairn_aws::OWNERSHIP_TAG))
        .send()
        .await
        .expect("groups");
    found
        .security_groups()
        .iter()
        .filter(|group| {
            group.ip_permissions_egress().iter().any(|permission| {
                permission.ip_protocol() == Some("-1")
                    && permission
                        .ip_ranges()
                        .iter()
                        .any(|range| range.cidr_ip() == Some("0.0.0.0/0"))
            })
        })
        .filter_map(|group| group.group_id().map(str::to_owned))
        .collect()
}
