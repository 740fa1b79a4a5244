//! EC2 resource types against the emulator, through the real engine and provider: create,
//! read back, update in place, replace on a force-new change, delete.

use cairn_dsl::aws::ec2::Vpc;
use cairn_dsl::{Declare, Stack, tags};
use cairn_engine::Action;
use cairn_tests::{Harness, action_of, binding};
use serde_json::json;

const REGION: &str = "us-east-1";

fn vpc_stack(account: &str, cidr: &str, hostnames: bool, owner: &str) -> Stack {
    let stack = Stack::new("ec2-test");
    let main = stack.provider(binding("main", account, REGION));
    main.add(
        Vpc::new("vpc")
            .cidr_block(cidr)
            .enable_dns_support(true)
            .enable_dns_hostnames(hostnames)
            .tags(tags([("CostCenter", "cc-1"), ("Owner", owner)])),
    );
    stack
}

#[tokio::test]
async fn vpc_lifecycle() {
    let (harness, account, place) = Harness::with_fresh_account(REGION);

    let plan = harness.apply(&vpc_stack(&account, "10.20.0.0/16", false, "a")).await;
    assert_eq!(action_of(&plan, "vpc"), Action::Create);
    let first_id = harness.output("vpc", "id");
    assert!(first_id.starts_with("vpc-"), "{first_id}");
    let observed = harness.observe("vpc", &place).await;
    assert_eq!(observed.inputs.get("cidr_block"), Some(&json!("10.20.0.0/16")));
    assert_eq!(observed.inputs.get("enable_dns_support"), Some(&json!(true)));
    assert_eq!(observed.inputs.get("enable_dns_hostnames"), Some(&json!(false)));
    assert_eq!(observed.inputs.get("tags"), Some(&json!({"CostCenter": "cc-1", "Owner": "a"})));
    assert_eq!(observed.outputs.get("owner_id"), Some(&json!(account)));

    let plan = harness.apply(&vpc_stack(&account, "10.20.0.0/16", true, "b")).await;
    assert_eq!(action_of(&plan, "vpc"), Action::Update);
    assert_eq!(harness.output("vpc", "id"), first_id, "an update keeps the VPC");
    let record = harness.record("vpc").expect("recorded");
    let observed = harness.observe("vpc", &place).await;
    assert_eq!(observed.inputs.get("enable_dns_hostnames"), Some(&json!(true)));
    assert_eq!(observed.inputs.get("tags"), Some(&json!({"CostCenter": "cc-1", "Owner": "b"})));

    let old_record = record;
    let plan = harness.apply(&vpc_stack(&account, "10.30.0.0/16", true, "b")).await;
    assert_eq!(action_of(&plan, "vpc"), Action::Replace);
    let second_id = harness.output("vpc", "id");
    assert_ne!(second_id, first_id, "a new CIDR makes a new VPC");
    assert!(harness.is_gone(&place, &old_record).await, "the old VPC is gone");

    let record = harness.record("vpc").expect("recorded");
    harness.destroy("ec2-test").await;
    assert!(harness.record("vpc").is_none());
    assert!(harness.is_gone(&place, &record).await, "destroy deleted it");
}
