//! One deployment of the customer's peering program into two fresh emulated accounts, run
//! through the same command-line code the binaries run, and an inventory of what it left in
//! AWS, read back through the SDK (not through cairn's state).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ec2::types::Filter;
use cairn_aws::{AwsProvider, Clients};
use cairn_cli::{self as cli, ApplyArgs, CloudArgs, Io, PlanArgs, RefreshArgs, StackArgs};
use cairn_engine::ProviderBinding;

use crate::{binding, emulator_url, fresh_account, provider, provider_through, run_command};

/// The environment suffix of every deployment: it ends up in the names of what is made.
pub const SUFFIX: &str = "e2e7";
/// The name of the accepter's external id secret the program reads in account B.
pub const SECRET_NAME: &str = "cairn/vpc-peering/accepter-external-id";

/// One deployment of the program into two fresh accounts.
pub struct Deployment {
    /// Account A's binding.
    pub trading: ProviderBinding,
    /// Account B's binding.
    pub analytics: ProviderBinding,
    overrides: Vec<(String, String)>,
    /// The provider the commands run with (through a proxy, when one is given).
    pub provider: Arc<AwsProvider>,
    /// A provider straight to the emulator, to read AWS back.
    direct: Arc<AwsProvider>,
    /// The directory of the state and the outputs file.
    pub dir: tempfile::TempDir,
    /// The runtime the SDK checks run on.
    pub runtime: tokio::runtime::Runtime,
}

impl Deployment {
    /// A deployment with account B in `analytics_region`, the commands going straight to the
    /// emulator.
    pub fn new(analytics_region: &str) -> Self {
        Self::with_provider(analytics_region, provider())
    }

    /// A deployment whose commands go through `endpoint_url` (a proxy in front of the
    /// emulator), retrying after `initial_backoff`.
    pub fn through(analytics_region: &str, endpoint_url: &str, initial_backoff: Duration) -> Self {
        Self::with_provider(analytics_region, provider_through(endpoint_url, Some(initial_backoff)))
    }

    fn with_provider(analytics_region: &str, commands: AwsProvider) -> Self {
        let (a, b) = (fresh_account(), fresh_account());
        let zones: Vec<String> =
            ["a", "b", "c"].iter().map(|z| format!("\"{analytics_region}{z}\"")).collect();
        let overrides = [
            ("TRADING__ACCOUNT_ID", a.clone()),
            ("TRADING__DEPLOYER_ROLE_ARN", format!("arn:aws:iam::{a}:role/cairn-deployer")),
            ("ANALYTICS__ACCOUNT_ID", b.clone()),
            ("ANALYTICS__DEPLOYER_ROLE_ARN", format!("arn:aws:iam::{b}:role/cairn-deployer")),
            ("ANALYTICS__REGION", analytics_region.to_owned()),
            ("ANALYTICS__AVAILABILITY_ZONES", format!("[{}]", zones.join(", "))),
            ("ENVIRONMENT_SUFFIX", SUFFIX.to_owned()),
        ]
        .into_iter()
        .map(|(key, value)| (format!("CAIRN_CONFIG__{key}"), value))
        .collect();
        Deployment {
            trading: binding("trading", &a, "us-east-1"),
            analytics: binding("analytics", &b, analytics_region),
            overrides,
            provider: Arc::new(commands),
            direct: Arc::new(provider_through(emulator_url(), None)),
            dir: tempfile::tempdir().expect("temp dir"),
            runtime: tokio::runtime::Runtime::new().expect("runtime"),
        }
    }

    /// The stack flags: the local config and the deployment's own state directory.
    pub fn stack_args(&self) -> StackArgs {
        StackArgs {
            config: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config/local.toml"),
            state: self.dir.path().join("state"),
        }
    }

    /// Where apply writes the flat outputs.
    pub fn outputs_file(&self) -> PathBuf {
        self.dir.path().join("cfn-outputs/flat-outputs.json")
    }

    /// Runs a command with captured output; returns its exit code and what it printed.
    pub fn run(
        &self,
        command: impl FnOnce(&mut Io<'_>) -> anyhow::Result<ExitCode>,
    ) -> (ExitCode, String) {
        run_command(&vpc_peering::Peering, &self.provider, &self.overrides, command)
    }

    /// The flags of `apply --yes`.
    pub fn apply_args(&self) -> ApplyArgs {
        ApplyArgs {
            stack: self.stack_args(),
            cloud: CloudArgs { yes: true, parallelism: 10, endpoint_url: None },
            plan: None,
            outputs: self.outputs_file(),
            adopt_owned: false,
        }
    }

    /// `apply --yes`, which must succeed: what it printed.
    pub fn apply(&self) -> String {
        let (code, text) = self.try_apply();
        assert_eq!(code, ExitCode::SUCCESS, "{text}");
        text
    }

    /// `apply --yes`: its exit code and what it printed.
    pub fn try_apply(&self) -> (ExitCode, String) {
        self.run(|io| cli::apply(&self.apply_args(), io))
    }

    /// The flags of `plan --detailed-exitcode`.
    pub fn plan_args(&self) -> PlanArgs {
        PlanArgs {
            stack: self.stack_args(),
            out: None,
            json: false,
            detailed_exitcode: true,
            list_policies: false,
        }
    }

    /// `plan --detailed-exitcode`: what it printed.
    pub fn plan(&self) -> String {
        self.run(|io| cli::plan(&self.plan_args(), io)).1
    }

    /// `refresh --yes`: what it found (and recorded).
    pub fn refresh(&self) -> String {
        let args = RefreshArgs {
            stack: self.stack_args(),
            cloud: CloudArgs { yes: true, parallelism: 10, endpoint_url: None },
        };
        let (code, text) = self.run(|io| cli::refresh(&args, io));
        assert_eq!(code, ExitCode::SUCCESS, "{text}");
        text
    }

    /// `destroy --yes`, which must succeed: what it printed.
    pub fn destroy(&self) -> String {
        let (code, text) = self.try_destroy();
        assert_eq!(code, ExitCode::SUCCESS, "{text}");
        text
    }

    /// `destroy --yes`: its exit code and what it printed.
    pub fn try_destroy(&self) -> (ExitCode, String) {
        self.run(|io| cli::destroy(&self.apply_args(), io))
    }

    /// The clients of `binding`, straight to the emulator.
    pub fn clients(&self, binding: &ProviderBinding) -> Arc<Clients> {
        self.runtime.block_on(self.direct.clients(binding)).expect("clients")
    }

    /// The flat outputs apply wrote.
    pub fn outputs(&self) -> BTreeMap<String, String> {
        let text = std::fs::read_to_string(self.outputs_file()).expect("flat outputs written");
        serde_json::from_str(&text).expect("a flat JSON object of strings")
    }

    /// Seeds the external id secret in account B, as the demo does.
    pub fn seed_secret(&self) -> String {
        let clients = self.clients(&self.analytics);
        let value = format!("external-{}", self.analytics.account_id);
        self.runtime
            .block_on(
                clients.secrets.create_secret().name(SECRET_NAME).secret_string(&value).send(),
            )
            .expect("secret seeded");
        value
    }

    /// What the deployment has in AWS, by side (`trading`, `analytics`) and kind (`vpc`,
    /// `sg`, `role`, `bucket`...): the ids or names of every EC2 resource that carries the
    /// ownership tag and still exists, of the roles, log groups and buckets named with the
    /// suffix, and of every alarm, Config rule and KMS key not pending deletion of the (fresh)
    /// accounts.
    pub fn inventory(&self) -> BTreeMap<String, Vec<String>> {
        let mut found = BTreeMap::new();
        for (side, binding) in [("trading", &self.trading), ("analytics", &self.analytics)] {
            let clients = self.clients(binding);
            let listed = self.runtime.block_on(side_inventory(&clients));
            for (kind, names) in listed {
                found.insert(format!("{side}/{kind}"), names);
            }
        }
        let clients = self.clients(&self.trading);
        let buckets = self.runtime.block_on(clients.s3.list_buckets().send()).expect("buckets");
        let ours = buckets
            .buckets()
            .iter()
            .filter_map(|bucket| bucket.name())
            .filter(|name| name.contains(SUFFIX))
            .filter(|name| {
                name.contains(&self.trading.account_id) || name.contains(&self.analytics.account_id)
            })
            .map(str::to_owned);
        found.insert("s3/bucket".into(), ours.collect());
        found.retain(|_, names| !names.is_empty());
        found
    }

    /// How many of each kind [`inventory`](Deployment::inventory) finds.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.inventory().into_iter().map(|(kind, names)| (kind, names.len())).collect()
    }
}

/// An EC2 filter on `name`.
pub fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// EC2 tags as a map.
pub fn tag_map(tags: &[aws_sdk_ec2::types::Tag]) -> BTreeMap<String, String> {
    tags.iter().filter_map(|tag| Some((tag.key()?.to_owned(), tag.value()?.to_owned()))).collect()
}

/// One account's part of [`Deployment::inventory`].
async fn side_inventory(clients: &Clients) -> BTreeMap<String, Vec<String>> {
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let tagged = clients
        .ec2
        .describe_tags()
        .filters(filter("key", cairn_aws::OWNERSHIP_TAG))
        .send()
        .await
        .expect("tags");
    for tag in tagged.tags() {
        let id = tag.resource_id().unwrap_or_default().to_owned();
        if still_exists(clients, &id).await {
            let kind = id.split('-').next().unwrap_or_default().to_owned();
            found.entry(kind).or_default().push(id);
        }
    }
    let roles = clients.iam.list_roles().send().await.expect("roles");
    let roles = roles.roles().iter().map(|role| role.role_name()).filter(|n| n.contains(SUFFIX));
    found.insert("role".into(), roles.map(str::to_owned).collect());
    let alarms = clients.cloudwatch.describe_alarms().send().await.expect("alarms");
    let alarms = alarms.metric_alarms().iter().filter_map(|alarm| alarm.alarm_name());
    found.insert("alarm".into(), alarms.map(str::to_owned).collect());
    let groups = clients.logs.describe_log_groups().send().await.expect("log groups");
    let groups = groups.log_groups().iter().filter_map(|group| group.log_group_name());
    let groups = groups.filter(|name| name.contains(SUFFIX)).map(str::to_owned);
    found.insert("log-group".into(), groups.collect());
    let keys = clients.kms.list_keys().send().await.expect("keys");
    let mut live_keys = Vec::new();
    for id in keys.keys().iter().filter_map(|key| key.key_id()) {
        let described = clients.kms.describe_key().key_id(id).send().await.expect("key");
        let state = described.key_metadata().and_then(|key| key.key_state().cloned());
        if state.is_some_and(|state| state != aws_sdk_kms::types::KeyState::PendingDeletion) {
            live_keys.push(id.to_owned());
        }
    }
    found.insert("kms-key".into(), live_keys);
    let rules = clients.config.describe_config_rules().send().await.expect("rules");
    let rules = rules.config_rules().iter().filter_map(|rule| rule.config_rule_name());
    found.insert("config-rule".into(), rules.map(str::to_owned).collect());
    for names in found.values_mut() {
        names.sort();
    }
    found
}

/// Whether an EC2 resource still exists. moto keeps deleted peerings, NAT gateways and
/// endpoints listed with a deleted state, and keeps the tags of deleted resources in
/// describe_tags, so each id is looked up itself.
async fn still_exists(clients: &Clients, id: &str) -> bool {
    let ec2 = &clients.ec2;
    match id.split('-').next().unwrap_or_default() {
        "pcx" => ec2
            .describe_vpc_peering_connections()
            .vpc_peering_connection_ids(id)
            .send()
            .await
            .ok()
            .and_then(|found| {
                found
                    .vpc_peering_connections()
                    .first()
                    .and_then(|c| c.status())
                    .and_then(|s| s.code())
                    .map(|code| code.as_str().to_owned())
            })
            .is_some_and(|code| {
                !matches!(code.as_str(), "deleted" | "rejected" | "failed" | "expired")
            }),
        "vpce" => ec2
            .describe_vpc_endpoints()
            .vpc_endpoint_ids(id)
            .send()
            .await
            .ok()
            .and_then(|found| {
                found
                    .vpc_endpoints()
                    .first()
                    .and_then(|e| e.state())
                    .map(|s| s.as_str().to_ascii_lowercase())
            })
            .is_some_and(|state| state != "deleted"),
        "fl" => ec2
            .describe_flow_logs()
            .flow_log_ids(id)
            .send()
            .await
            .is_ok_and(|found| !found.flow_logs().is_empty()),
        "vpc" => {
            ec2.describe_vpcs().vpc_ids(id).send().await.is_ok_and(|found| !found.vpcs().is_empty())
        }
        "subnet" => ec2
            .describe_subnets()
            .subnet_ids(id)
            .send()
            .await
            .is_ok_and(|found| !found.subnets().is_empty()),
        "rtb" => ec2
            .describe_route_tables()
            .route_table_ids(id)
            .send()
            .await
            .is_ok_and(|found| !found.route_tables().is_empty()),
        "sg" => ec2
            .describe_security_groups()
            .group_ids(id)
            .send()
            .await
            .is_ok_and(|found| !found.security_groups().is_empty()),
        "acl" => ec2
            .describe_network_acls()
            .network_acl_ids(id)
            .send()
            .await
            .is_ok_and(|found| !found.network_acls().is_empty()),
        "sgr" => ec2
            .describe_security_group_rules()
            .security_group_rule_ids(id)
            .send()
            .await
            .is_ok_and(|found| !found.security_group_rules().is_empty()),
        _ => true,
    }
}
