//! The catalogue of bad inputs. Each case runs `plan` and `apply --yes` the way the binaries
//! do and shows: the exit code is non-zero; the message names the resource, the property (or
//! the file and key) and the fix; no provider call was made (the provider was never even
//! asked for, and the real AWS provider the commands would get counts zero SDK calls); and
//! the state directory is byte-identical afterwards.

mod common;

use std::cell::Cell;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use cairn_aws::{AwsProvider, ProviderOptions, StaticCredentials};
use cairn_cli::ProgramError;
use cairn_cli::{
    self as cli, ApplyArgs, CloudArgs, Io, PlanArgs, ProgramSource, ProviderSource, RefreshArgs,
    StackArgs,
};
use cairn_engine::{Input, Provider, StackSpec, Waiver};
use cairn_state::Store;
use common::{
    corrupt_record, default_config, fingerprint, record_in_state, run_captured, vpc_record,
};
use serde_json::json;

/// Hands out a real AWS provider, pointed at a loopback port nothing listens on, and counts
/// how often it was asked for.
struct CountingProviders {
    provider: Arc<AwsProvider>,
    requests: Cell<usize>,
}

impl CountingProviders {
    fn new() -> Self {
        let provider = AwsProvider::new(ProviderOptions {
            endpoint_url: Some("http://127.0.0.1:9".into()),
            static_credentials: Some(StaticCredentials {
                access_key_id: "testing".into(),
                secret_access_key: "testing".into(),
            }),
            initial_backoff: None,
        });
        CountingProviders { provider: Arc::new(provider), requests: Cell::new(0) }
    }
}

impl ProviderSource for CountingProviders {
    fn provider(&self, _endpoint_url: Option<&str>) -> anyhow::Result<Arc<dyn Provider>> {
        self.requests.set(self.requests.get() + 1);
        Ok(self.provider.clone())
    }
}

/// The peering program as shipped, with `mutate` applied to what it declares: a program
/// with a bug in it.
struct Mutated(fn(&mut StackSpec));

impl ProgramSource for Mutated {
    fn name(&self) -> &str {
        vpc_peering::NAME
    }

    fn declare(
        &self,
        config: &Path,
        overrides: &[(String, String)],
    ) -> Result<StackSpec, ProgramError> {
        let mut spec = ProgramSource::declare(&vpc_peering::Peering, config, overrides)?;
        (self.0)(&mut spec);
        Ok(spec)
    }
}

fn unchanged(_: &mut StackSpec) {}

/// The commands every case runs: those that read the program.
const PROGRAM_COMMANDS: &[&str] = &["plan", "apply"];
/// The commands a bad state directory must stop: every one that opens the state.
const STATE_COMMANDS: &[&str] = &["plan", "apply", "destroy", "refresh"];

/// One bad input, run through `plan` and `apply --yes` (and, for a bad state, `destroy --yes`
/// and `refresh --yes`).
struct Case {
    program: fn(&mut StackSpec),
    config: Option<fn(String) -> String>,
    overrides: Vec<(String, String)>,
    /// Prepares the state directory (after the existing record is written).
    state: Option<fn(&Path)>,
    /// The commands to run.
    commands: &'static [&'static str],
    /// Text every message must contain: resource or file, property or key, fix.
    expected: Vec<String>,
}

impl Case {
    fn program(mutate: fn(&mut StackSpec), expected: &[&str]) -> Self {
        Case {
            program: mutate,
            config: None,
            overrides: Vec::new(),
            state: None,
            commands: PROGRAM_COMMANDS,
            expected: strings(expected),
        }
    }

    fn config(edit: fn(String) -> String, expected: &[&str]) -> Self {
        Case { config: Some(edit), ..Case::program(unchanged, expected) }
    }

    /// Runs the case; panics with what went wrong.
    fn check(self) {
        let temp = tempfile::tempdir().expect("temp dir");
        let state = temp.path().join("state");
        record_in_state(&state, &vpc_record("trading-vpc"));
        if let Some(prepare) = self.state {
            prepare(&state);
        }
        let config = match self.config {
            Some(edit) => {
                let text = std::fs::read_to_string(default_config()).expect("default config");
                let path = temp.path().join("stack.toml");
                std::fs::write(&path, edit(text)).expect("write config");
                path
            }
            None => default_config(),
        };
        let before = fingerprint(&state);
        let stack = StackArgs { config: config.clone(), state: state.clone() };
        let plan_args = PlanArgs {
            stack: stack.clone(),
            out: None,
            json: false,
            detailed_exitcode: false,
            list_policies: false,
        };
        let cloud = CloudArgs { yes: true, parallelism: 10, endpoint_url: None };
        let refresh_args = RefreshArgs { stack: stack.clone(), cloud: cloud.clone() };
        let apply_args = ApplyArgs {
            stack,
            cloud,
            plan: None,
            outputs: temp.path().join("outputs.json"),
            adopt_owned: false,
        };
        for command in self.commands {
            let providers = CountingProviders::new();
            let (code, message) = self.run(&providers, |io| match *command {
                "plan" => cli::plan(&plan_args, io),
                "destroy" => cli::destroy(&apply_args, io),
                "refresh" => cli::refresh(&refresh_args, io),
                _ => cli::apply(&apply_args, io),
            });
            assert_eq!(code, ExitCode::FAILURE, "{command} must fail: {message}");
            for expected in &self.expected {
                assert!(
                    message.contains(expected.as_str()),
                    "{command}: `{expected}` missing from:\n{message}"
                );
            }
            assert_eq!(providers.requests.get(), 0, "{command} asked for a provider");
            assert_eq!(
                providers.provider.call_counts().calls,
                Vec::<String>::new(),
                "{command} made SDK calls"
            );
            assert!(fingerprint(&state) == before, "{command} changed the state directory");
            assert!(!apply_args.outputs.exists(), "{command} wrote outputs");
        }
    }

    fn run(
        &self,
        providers: &CountingProviders,
        command: impl FnOnce(&mut Io<'_>) -> anyhow::Result<ExitCode>,
    ) -> (ExitCode, String) {
        run_captured(&Mutated(self.program), providers, self.overrides.clone(), Some(true), command)
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

fn resource<'a>(spec: &'a mut StackSpec, name: &str) -> &'a mut cairn_engine::Resource {
    spec.resources
        .iter_mut()
        .find(|resource| resource.name == name)
        .unwrap_or_else(|| panic!("no `{name}`"))
}

fn set(spec: &mut StackSpec, name: &str, property: &str, value: serde_json::Value) {
    resource(spec, name).inputs.insert(property.into(), Input::Literal(value));
}

// --- The policy pack -------------------------------------------------------------------

#[test]
fn a_missing_mandatory_tag() {
    Case::config(
        |text| text.replace("Environment = \"sandbox\"\n", ""),
        &[
            "[mandatory-tags]",
            "resource `trading-vpc` property `tags`",
            "lacks the mandatory tag(s) Environment",
            "fix: set them",
        ],
    )
    .check();
}

#[test]
fn a_security_group_open_to_the_world() {
    Case::program(
        |spec| set(spec, "trading-app-sg-in-443-1", "cidr_ipv4", json!("0.0.0.0/0")),
        &[
            "[no-open-cidr] resource `trading-app-sg-in-443-1` property `cidr_ipv4` = 0.0.0.0/0",
            "fix: name the CIDR blocks",
        ],
    )
    .check();
}

#[test]
fn an_allowed_cidr_open_to_the_world() {
    Case::config(
        |text| {
            text.replacen(
                "deployer_role_arn = \"arn:aws:iam::111111111111",
                "allowed_cidrs = [\"0.0.0.0/0\"]\ndeployer_role_arn = \"arn:aws:iam::111111111111",
                1,
            )
        },
        &["`trading.allowed_cidrs` together cover every address (0.0.0.0/0)"],
    )
    .check();
}

#[test]
fn a_nacl_allow_entry_open_to_the_world() {
    Case::program(
        |spec| set(spec, "analytics-private-nacl-in-100", "cidr_block", json!("0.0.0.0/0")),
        &["[no-open-cidr] resource `analytics-private-nacl-in-100` property `cidr_block` = 0.0.0.0/0"],
    )
    .check();
}

#[test]
fn ingress_on_a_port_that_is_not_allowed() {
    Case::program(
        |spec| {
            set(spec, "trading-app-sg-in-443-1", "from_port", json!(22));
            set(spec, "trading-app-sg-in-443-1", "to_port", json!(22));
        },
        &["[sg-allowed-ports] resource `trading-app-sg-in-443-1` property `from_port` = tcp 22-22", "allowed ones (443, 5432)", "fix: open only the allowed ports"],
    )
    .check();
}

#[test]
fn a_peering_route_wider_than_the_peer_vpc() {
    Case::program(
        |spec| set(spec, "trading-private-1-to-peer", "destination_cidr_block", json!("10.0.0.0/8")),
        &["[peering-route-scope] resource `trading-private-1-to-peer` property `destination_cidr_block` = 10.0.0.0/8", "beyond the peer VPC's CIDR 10.1.0.0/16"],
    )
    .check();
}

#[test]
fn a_vpc_without_flow_logs() {
    Case::program(
        |spec| spec.resources.retain(|resource| resource.name != "analytics-flow-log-all"),
        &["[flow-logs-on-every-vpc] resource `analytics-vpc`", "fix: add an aws:ec2/FlowLog"],
    )
    .check();
}

#[test]
fn overlapping_peered_vpcs() {
    Case {
        overrides: strings_pairs(&[
            ("CAIRN_CONFIG__ANALYTICS__CIDR", "10.0.0.0/16"),
            ("CAIRN_CONFIG__ANALYTICS__PRIVATE_SUBNETS", "[\"10.0.96.0/19\", \"10.0.128.0/19\", \"10.0.160.0/19\"]"),
        ]),
        ..Case::program(unchanged, &["[peering-cidrs-disjoint] resource `trading-analytics-peering` property `peer_vpc_id` = 10.0.0.0/16 and 10.0.0.0/16", "fix: give the two VPCs disjoint CIDR blocks"])
    }
    .check();
}

#[test]
fn a_name_without_the_environment_suffix() {
    Case::program(
        |spec| set(spec, "trading-app-sg", "name", json!("trading-app-sg")),
        &[
            "[name-has-suffix] resource `trading-app-sg` property `name` = trading-app-sg",
            "does not contain the environment suffix `x7k2`",
        ],
    )
    .check();
}

#[test]
fn a_hard_coded_account_id_and_environment_name() {
    Case::program(
        |spec| set(spec, "trading-vpc", "tags", json!({"CostCenter": "c", "Environment": "sandbox", "Name": "prod-vpc", "Owner": "123456789012"})),
        &["[no-hardcoded-identifiers] resource `trading-vpc` property `tags` = 123456789012, prod", "fix: read it from the stack config"],
    )
    .check();
}

#[test]
fn a_protected_resource() {
    Case::program(
        |spec| resource(spec, "flow-logs-bucket").options.protect = true,
        &[
            "[destroyable] resource `flow-logs-bucket` property `protect`",
            "fix: remove `protect()`",
        ],
    )
    .check();
}

#[test]
fn a_bucket_without_kms_or_public_access_block() {
    Case::program(
        |spec| {
            resource(spec, "flow-logs-bucket").inputs.remove("kms_key_arn");
            set(spec, "flow-logs-bucket", "block_public_access", json!(false));
        },
        &["[kms-encryption] resource `flow-logs-bucket` property `kms_key_arn` = unset", "[s3-public-access-blocked] resource `flow-logs-bucket` property `block_public_access` = false"],
    )
    .check();
}

#[test]
fn an_iam_policy_allowing_everything() {
    Case::program(
        |spec| {
            let document = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
            resource(spec, "accepter-role-peering").inputs.insert("policy".into(), Input::Json(Box::new(Input::Literal(document))));
        },
        &["[iam-no-admin-wildcard] resource `accepter-role-peering` property `policy`", "fix: list the actions"],
    )
    .check();
}

#[test]
fn cross_account_trust_without_an_external_id() {
    Case::program(
        |spec| {
            let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole"}]});
            resource(spec, "accepter-role").inputs.insert("assume_role_policy".into(), Input::Json(Box::new(Input::Literal(trust))));
        },
        &["[iam-cross-account-external-id] resource `accepter-role` property `assume_role_policy`", "fix: add Condition StringEquals sts:ExternalId"],
    )
    .check();
}

#[test]
fn a_waiver_names_its_reason_and_lets_the_plan_through() {
    let temp = tempfile::tempdir().expect("temp dir");
    let providers = CountingProviders::new();
    let programs = Mutated(|spec| {
        let bucket = resource(spec, "flow-logs-bucket");
        bucket.inputs.remove("kms_key_arn");
        bucket.options.waivers.push(Waiver {
            rule: "kms-encryption".into(),
            reason: "the archive account encrypts on replication".into(),
        });
    });
    let args = PlanArgs {
        stack: StackArgs { config: default_config(), state: temp.path().join("state") },
        out: None,
        json: false,
        detailed_exitcode: false,
        list_policies: false,
    };
    let (code, text) =
        run_captured(&programs, &providers, Vec::new(), None, |io| cli::plan(&args, io));
    assert_eq!(code, ExitCode::SUCCESS, "{text}");
    assert!(text.contains("Waived: [kms-encryption] resource `flow-logs-bucket`"), "{text}");
    assert!(text.contains("(waived: the archive account encrypts on replication)"), "{text}");
}

// --- Input validation -------------------------------------------------------------------

#[test]
fn a_cidr_that_is_not_a_cidr() {
    Case::config(
        |text| text.replace("cidr = \"10.0.0.0/16\"", "cidr = \"10.0.0.0/33\""),
        &[
            "stack.toml: `trading` holds `10.0.0.0/33`, which is not an IPv4 CIDR block",
            "fix: write CIDR blocks as address/prefix",
        ],
    )
    .check();
}

#[test]
fn a_subnet_outside_its_vpc() {
    Case::config(
        |text| {
            text.replace("\"10.0.0.0/19\", \"10.0.32.0/19\"", "\"10.9.0.0/19\", \"10.0.32.0/19\"")
        },
        &[
            "resource `trading-private-1` (aws:ec2/Subnet) property `cidr_block`",
            "10.9.0.0/19",
            "10.0.0.0/16",
        ],
    )
    .check();
}

#[test]
fn a_nacl_rule_number_out_of_range() {
    Case::program(
        |spec| set(spec, "trading-private-nacl-in-100", "rule_number", json!(40000)),
        &["resource `trading-private-nacl-in-100` (aws:ec2/NetworkAclEntry) property `rule_number`", "fix: use 1 to 32766"],
    )
    .check();
}

#[test]
fn ports_the_wrong_way_round() {
    Case::program(
        |spec| {
            set(spec, "trading-app-sg-out-443", "from_port", json!(5432));
            set(spec, "trading-app-sg-out-443", "to_port", json!(443));
        },
        &["resource `trading-app-sg-out-443` (aws:ec2/SecurityGroupEgressRule)", "from_port"],
    )
    .check();
}

#[test]
fn a_flow_log_aggregation_interval_aws_refuses() {
    Case::program(
        |spec| set(spec, "trading-flow-log-all", "max_aggregation_interval", json!(300)),
        &[
            "resource `trading-flow-log-all` (aws:ec2/FlowLog) property `max_aggregation_interval`",
            "60 or 600",
        ],
    )
    .check();
}

#[test]
fn an_endpoint_service_name_that_is_not_one() {
    Case::program(
        |spec| set(spec, "trading-s3-endpoint", "service_name", json!("s3.amazonaws.com")),
        &[
            "resource `trading-s3-endpoint` (aws:ec2/VpcEndpoint) property `service_name`",
            "com.amazonaws.<region>.s3",
        ],
    )
    .check();
}

#[test]
fn a_policy_document_that_does_not_parse() {
    Case::program(
        |spec| {
            set(
                spec,
                "accepter-role-peering",
                "policy",
                json!("{\"Version\": \"2012-10-17\", \"Statement\": ["),
            )
        },
        &["resource `accepter-role-peering` (aws:iam/RolePolicy) property `policy`"],
    )
    .check();
}

#[test]
fn an_iam_role_name_too_long() {
    Case {
        overrides: strings_pairs(&[("CAIRN_CONFIG__PEERING__ACCEPTER_ROLE_NAME", &"a".repeat(70))]),
        ..Case::program(unchanged, &["resource `accepter-role` (aws:iam/Role) property `name`"])
    }
    .check();
}

#[test]
fn a_bucket_name_aws_refuses() {
    Case::config(
        |text| text.replace("stack = \"vpc-peering\"", "stack = \"VPC_Peering\""),
        &[
            "resource `flow-logs-bucket` (aws:s3/Bucket) property `bucket`",
            "is not a valid bucket name",
        ],
    )
    .check();
}

#[test]
fn a_tag_value_too_long() {
    Case::config(
        |text| {
            text.replace("Owner = \"platform-team\"", &format!("Owner = \"{}\"", "x".repeat(300)))
        },
        &["resource `trading-vpc` (aws:ec2/Vpc) property `tags`", "has 300 characters"],
    )
    .check();
}

#[test]
fn a_user_tag_with_cairns_ownership_key() {
    Case::config(
        |text| text.replace("Owner = \"platform-team\"", "\"cairn:urn\" = \"mine\""),
        &[
            "resource `trading-vpc` (aws:ec2/Vpc) property `tags`",
            "tag key `cairn:urn` uses the prefix `cairn:`",
            "without the aws: or cairn: prefix",
        ],
    )
    .check();
}

#[test]
fn an_alarm_period_cloudwatch_refuses() {
    Case::program(
        |spec| set(spec, "trading-rejected-packets-alarm", "period", json!(45)),
        &["resource `trading-rejected-packets-alarm` (aws:cloudwatch/MetricAlarm) property `period`"],
    )
    .check();
}

// --- The graph ----------------------------------------------------------------------------

#[test]
fn a_dependency_cycle() {
    Case::program(
        |spec| resource(spec, "trading-vpc").options.depends_on.push("trading-private-1".into()),
        &[
            "dependency cycle: trading-vpc -> trading-private-1 -> trading-vpc",
            "remove one of these references",
        ],
    )
    .check();
}

#[test]
fn a_duplicate_resource_name() {
    Case::program(
        |spec| {
            let copy = resource(spec, "trading-private-1").clone();
            spec.resources.push(copy);
        },
        &["resource name `trading-private-1` is declared twice", "give one of them another name"],
    )
    .check();
}

#[test]
fn a_reference_to_a_resource_that_does_not_exist() {
    Case::program(
        |spec| {
            let reference = Input::Ref(cairn_engine::OutputRef {
                resource: "ghost-vpc".into(),
                output: "id".into(),
            });
            resource(spec, "trading-private-1").inputs.insert("vpc_id".into(), reference);
        },
        &[
            "resource `trading-private-1` property `vpc_id` refers to `ghost-vpc`",
            "declare `ghost-vpc` or correct the reference",
        ],
    )
    .check();
}

// --- Config and state ------------------------------------------------------------------

#[test]
fn a_config_with_an_unknown_key() {
    Case::config(
        |text| text.replace("[tags]", "colour = \"red\"\n[tags]"),
        &["stack.toml is invalid", "unknown field `colour`", "see config/README.md"],
    )
    .check();
}

#[test]
fn a_config_with_a_wrong_type() {
    Case::config(
        |text| {
            text.replace(
                "rejected_packets_threshold = 100",
                "rejected_packets_threshold = \"many\"",
            )
        },
        &["stack.toml is invalid", "rejected_packets_threshold", "expected i64"],
    )
    .check();
}

#[test]
fn an_availability_zone_of_another_region() {
    Case::config(
        |text| text.replacen("\"us-east-1a\", \"us-east-1b\"", "\"us-west-2a\", \"us-east-1b\"", 1),
        &["`trading.availability_zones` holds `us-west-2a`, which is not a zone of trading.region `us-east-1`"],
    )
    .check();
}

#[test]
fn a_region_that_does_not_exist() {
    Case::config(
        |text| text.replacen("region = \"us-east-1\"", "region = \"us-east1\"", 1),
        &["`trading.region` is `us-east1`, not an AWS region name", "fix: name a region"],
    )
    .check();
}

#[test]
fn an_empty_list_of_zones() {
    Case::config(
        |text| {
            text.replacen(
                "availability_zones = [\"us-east-1a\", \"us-east-1b\", \"us-east-1c\"]",
                "availability_zones = []",
                1,
            )
        },
        &["`trading.availability_zones` is empty"],
    )
    .check();
}

#[test]
fn one_account_for_both_sides() {
    Case::config(
        |text| text.replace("222222222222", "111111111111"),
        &[
            "`analytics.account_id` is `111111111111`, the trading side's account too",
            "two accounts",
        ],
    )
    .check();
}

#[test]
fn a_deployer_role_that_is_not_an_arn() {
    Case::config(
        |text| text.replacen("arn:aws:iam::111111111111:role/cairn-deployer", "cairn-deployer", 1),
        &["`trading.deployer_role_arn` is `cairn-deployer`, not the ARN of a role in account 111111111111"],
    )
    .check();
}

#[test]
fn an_empty_secret_name() {
    Case::config(
        |text| {
            text.replace(
                "external_id_secret = \"cairn/vpc-peering/accepter-external-id\"",
                "external_id_secret = \"\"",
            )
        },
        &["`peering.external_id_secret` is empty", "fix: name the existing Secrets Manager secret"],
    )
    .check();
}

#[test]
fn an_alarm_action_that_is_not_an_arn() {
    Case::config(
        |text| {
            text.replace(
                "rejected_packets_threshold = 100",
                "rejected_packets_threshold = 100\nalarm_actions = [\"ops-topic\"]",
            )
        },
        &["`monitoring.alarm_actions` holds `ops-topic`, which is not an ARN"],
    )
    .check();
}

#[test]
fn allowed_cidrs_that_together_cover_everything() {
    Case::config(
        |text| {
            text.replacen(
                "cidr = \"10.0.0.0/16\"",
                "cidr = \"10.0.0.0/16\"\nallowed_cidrs = [\"0.0.0.0/1\", \"128.0.0.0/1\"]",
                1,
            )
        },
        &["`trading.allowed_cidrs` together cover every address (0.0.0.0/1 + 128.0.0.0/1)"],
    )
    .check();
}

#[test]
fn an_environment_suffix_that_makes_names_invalid() {
    Case::config(
        |text| text.replace("environment_suffix = \"x7k2\"", "environment_suffix = \"X7_K2\""),
        &["`environment_suffix` is `X7_K2`", "fix: use 1 to 12 lower-case letters and digits"],
    )
    .check();
}

#[test]
fn a_config_without_an_account_id() {
    Case::config(
        |text| text.replacen("account_id = \"222222222222\"\n", "", 1),
        &["stack.toml is invalid", "missing field `account_id`"],
    )
    .check();
}

#[test]
fn an_empty_config() {
    Case::config(|_| String::new(), &["stack.toml is invalid", "missing field `stack`"]).check();
}

#[test]
fn a_state_locked_by_another_process() {
    // The lock is held by this process for the length of the case.
    static HOLDER: std::sync::Mutex<Option<Store>> = std::sync::Mutex::new(None);
    Case {
        state: Some(|dir| {
            let store = Store::open(dir).expect("holder");
            *HOLDER.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(store);
        }),
        commands: STATE_COMMANDS,
        ..Case::program(
            unchanged,
            &[&format!("state is locked by another process (pid {}", std::process::id())],
        )
    }
    .check();
    HOLDER.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
}

#[test]
fn a_corrupt_state_record() {
    Case {
        state: Some(|dir| corrupt_record(dir, "urn:cairn:vpc-peering::trading::aws:ec2/Vpc::trading-vpc")),
        commands: STATE_COMMANDS,
        ..Case::program(unchanged, &["state record `urn:cairn:vpc-peering::trading::aws:ec2/Vpc::trading-vpc` in tree `resources` is corrupt", "restore the state directory from a backup"])
    }
    .check();
}

fn strings_pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect()
}

#[test]
fn overlapping_subnets_of_one_vpc() {
    Case::config(
        |text| {
            text.replace("\"10.0.0.0/19\", \"10.0.32.0/19\"", "\"10.0.0.0/19\", \"10.0.16.0/20\"")
        },
        &[
            "resource `trading-private-2` (aws:ec2/Subnet) property `cidr_block`",
            "`10.0.16.0/20` overlaps `10.0.0.0/19` of subnet `trading-private-1`",
            "fix: give each subnet of a VPC its own block",
        ],
    )
    .check();
}

#[test]
fn a_nacl_rule_number_used_twice_in_one_direction() {
    Case::program(
        |spec| set(spec, "trading-private-nacl-in-120", "rule_number", json!(100)),
        &["resource `trading-private-nacl-in-120` (aws:ec2/NetworkAclEntry) property `rule_number`", "ingress rule number 100 is already used by `trading-private-nacl-in-100`"],
    )
    .check();
}
