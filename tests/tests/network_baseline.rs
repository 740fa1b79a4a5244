//! The second program, a single-account network baseline, applied into a fresh emulated
//! account through the same command code its binary runs: AWS read back through the SDK
//! (the VPC, its flow log to the encrypted bucket, the security group's rules), a clean
//! second plan, and nothing of it left after destroy.

use std::path::PathBuf;
use std::process::ExitCode;

use aws_sdk_ec2::types::Filter;
use cairn_cli::{self as cli, ApplyArgs, CloudArgs, PlanArgs, StackArgs};
use cairn_tests::{binding, fresh_account, provider, run_command};
use network_baseline::NetworkBaseline;

#[test]
fn the_network_baseline_applies_plans_clean_and_destroys() {
    let account = fresh_account();
    let overrides: Vec<(String, String)> = [
        ("ACCOUNT__ACCOUNT_ID", account.clone()),
        ("ACCOUNT__DEPLOYER_ROLE_ARN", format!("arn:aws:iam::{account}:role/cairn-deployer")),
    ]
    .into_iter()
    .map(|(key, value)| (format!("CAIRN_CONFIG__{key}"), value))
    .collect();
    let temp = tempfile::tempdir().expect("temp dir");
    let stack = StackArgs {
        config: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../programs/network-baseline/config/local.toml"),
        state: temp.path().join("state"),
    };
    let apply_args = ApplyArgs {
        stack: stack.clone(),
        cloud: CloudArgs { yes: true, parallelism: 10, endpoint_url: None },
        plan: None,
        outputs: temp.path().join("outputs.json"),
        adopt_owned: false,
    };
    let plan_args =
        PlanArgs { stack, out: None, json: false, detailed_exitcode: true, list_policies: false };
    let aws = std::sync::Arc::new(provider());
    let run = |command: &dyn Fn(&mut cli::Io<'_>) -> anyhow::Result<ExitCode>| {
        run_command(&NetworkBaseline, &aws, &overrides, command)
    };

    let (code, applied) = run(&|io| cli::apply(&apply_args, io));
    assert_eq!(code, ExitCode::SUCCESS, "{applied}");
    assert!(applied.contains("Apply complete! 13 operations."), "{applied}");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let clients =
        runtime.block_on(aws.clients(&binding("check", &account, "us-east-1"))).expect("clients");
    let vpc_id = runtime.block_on(async {
        let named = Filter::builder().name("tag:Name").values("baseline-vpc-nb01").build();
        let vpcs = clients.ec2.describe_vpcs().filters(named).send().await.expect("vpcs");
        let vpc = vpcs.vpcs().first().expect("the VPC exists").clone();
        assert_eq!(vpc.cidr_block(), Some("10.20.0.0/16"));
        vpc.vpc_id().unwrap_or_default().to_owned()
    });
    runtime.block_on(async {
        let of_vpc = Filter::builder().name("resource-id").values(&vpc_id).build();
        let logs = clients.ec2.describe_flow_logs().filter(of_vpc).send().await.expect("logs");
        let log = logs.flow_logs().first().expect("the VPC has a flow log");
        assert_eq!(log.traffic_type().map(|kind| kind.as_str()), Some("ALL"));
        let bucket = format!("network-baseline-flow-logs-{account}-nb01");
        assert_eq!(log.log_destination(), Some(format!("arn:aws:s3:::{bucket}").as_str()));
        let encryption =
            clients.s3.get_bucket_encryption().bucket(&bucket).send().await.expect("encryption");
        let rule = encryption
            .server_side_encryption_configuration()
            .and_then(|config| config.rules().first());
        let default = rule.and_then(|rule| rule.apply_server_side_encryption_by_default());
        assert_eq!(default.map(|by_default| by_default.sse_algorithm().as_str()), Some("aws:kms"));
        let in_vpc = Filter::builder().name("vpc-id").values(&vpc_id).build();
        let named = Filter::builder().name("group-name").values("baseline-https-sg-nb01").build();
        let groups = clients
            .ec2
            .describe_security_groups()
            .filters(in_vpc)
            .filters(named)
            .send()
            .await
            .expect("groups");
        let group = groups.security_groups().first().expect("the security group exists");
        assert!(group.ip_permissions_egress().is_empty(), "no egress: {group:?}");
        let ingress: Vec<(Option<i32>, Vec<&str>)> = group
            .ip_permissions()
            .iter()
            .map(|rule| {
                (
                    rule.from_port(),
                    rule.ip_ranges().iter().filter_map(|range| range.cidr_ip()).collect(),
                )
            })
            .collect();
        assert_eq!(ingress, [(Some(443), vec!["10.20.0.0/16"])], "HTTPS from the VPC only");
    });

    let (code, again) = run(&|io| cli::plan(&plan_args, io));
    assert_eq!(code, ExitCode::SUCCESS, "No changes exits 0 with --detailed-exitcode: {again}");
    assert!(again.contains("No changes."), "{again}");

    let (code, destroyed) = run(&|io| cli::destroy(&apply_args, io));
    assert_eq!(code, ExitCode::SUCCESS, "{destroyed}");
    let left = runtime.block_on(async {
        let of_vpc = Filter::builder().name("vpc-id").values(&vpc_id).build();
        clients
            .ec2
            .describe_subnets()
            .filters(of_vpc)
            .send()
            .await
            .expect("subnets")
            .subnets()
            .len()
    });
    assert_eq!(left, 0, "nothing of the baseline is left");
}
