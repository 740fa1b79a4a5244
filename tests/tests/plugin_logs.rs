//! The AWS provider plugin's most verbose logs (`-vvv`) never show a secret: the SDK's
//! request and response bodies stay out of them. The plugin is driven over its protocol by
//! hand, with its standard error captured: it reads a secret seeded in the emulator, and
//! creates a role whose trust policy requires it as the external id (IAM echoes the policy
//! back in its response, which the SDK traces when nothing marks it sensitive).

use std::io::Write;
use std::process::{Command, Stdio};

use cairn_engine::{ResourceRequest, Urn};
use cairn_plugin::protocol::{Call, Configure, PROTOCOL_VERSION, Request};
use cairn_tests::{DUMMY_KEY, aws_plugin, binding, emulator_url, fresh_account, provider};

const SECRET: &str = "s3cr3t-value-9876";

#[test]
fn trace_logs_of_the_plugin_never_show_a_secret() {
    let account = fresh_account();
    let place = binding("main", &account, "us-east-1");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let clients = runtime.block_on(provider().clients(&place)).expect("clients");
    runtime
        .block_on(clients.secrets.create_secret().name("app/token").secret_string(SECRET).send())
        .expect("secret seeded");
    let read = ResourceRequest {
        urn: Urn::new("logs", "main", "aws:secretsmanager/SecretValue", "token"),
        name: "token".into(),
        type_token: "aws:secretsmanager/SecretValue".into(),
        binding: place,
        inputs: serde_json::json!({"secret_id": "app/token"}),
        replacing: None,
    };
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": SECRET}}
        }]
    });
    let role = ResourceRequest {
        urn: Urn::new("logs", "main", "aws:iam/Role", "accepter"),
        name: "accepter".into(),
        type_token: "aws:iam/Role".into(),
        inputs: serde_json::json!({"name": "logs-accepter", "assume_role_policy": trust.to_string()}),
        ..read.clone()
    };
    let configure = Configure {
        protocol: PROTOCOL_VERSION,
        endpoint_url: Some(emulator_url().to_owned()),
        verbosity: 3,
    };
    let requests = [
        Request { id: 0, call: Call::Configure(configure) },
        Request { id: 1, call: Call::ReadDataSource { request: read } },
        Request { id: 2, call: Call::Create { request: role } },
    ];

    let mut plugin = Command::new(aws_plugin())
        .env_remove("RUST_LOG")
        .env("AWS_ACCESS_KEY_ID", DUMMY_KEY)
        .env("AWS_SECRET_ACCESS_KEY", DUMMY_KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the plugin starts");
    let mut input = plugin.stdin.take().expect("stdin");
    for request in &requests {
        let mut line = serde_json::to_vec(request).expect("request");
        line.push(b'\n');
        input.write_all(&line).expect("written");
    }
    drop(input);
    let finished = plugin.wait_with_output().expect("the plugin exits once its input ends");

    let answers = String::from_utf8_lossy(&finished.stdout);
    assert!(answers.contains("\"id\":2,\"ok\""), "the role was created: {answers}");
    assert!(answers.contains(SECRET), "the secret travels on the protocol only");
    let logs = String::from_utf8_lossy(&finished.stderr);
    assert!(logs.contains("DEBUG"), "the most verbose logging was on");
    let leaks = logs.lines().filter(|line| line.contains(SECRET)).count();
    assert_eq!(leaks, 0, "log lines show the secret");
}
