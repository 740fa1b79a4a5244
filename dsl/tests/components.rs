//! Components and moves: a component's resources are named under its prefix, grouped in the
//! plan text and clustered in the dot graph (snapshots); a resource renamed, or wrapped in a
//! component, plans as a move with a `moved` mapping (and apply only renames the record), and
//! as a delete and a create without one.

use std::sync::Arc;

use cairn_dsl::aws::Account;
use cairn_dsl::aws::ec2::{Subnet, Vpc};
use cairn_dsl::{Binding, Resource, Stack};
use cairn_engine::memory::MemoryCloud;
use cairn_engine::{
    Action, ApplyOptions, NoProgress, Plan, RenderOptions, RunKind, StackSpec, render_plan,
};
use cairn_state::Store;

/// A small component: a VPC and its subnets, with typed outputs.
struct Network {
    vpc: Resource<Vpc>,
    subnets: Vec<Resource<Subnet>>,
}

impl Network {
    fn declare(place: &Binding, name: &str, cidr: &str, subnets: &[&str]) -> Self {
        let scope = place.component(name);
        let vpc = scope.add(Vpc::new("vpc").cidr_block(cidr));
        let subnets = subnets
            .iter()
            .enumerate()
            .map(|(index, block)| {
                scope
                    .add(Subnet::new(format!("subnet-{index}")).vpc_id(vpc.id()).cidr_block(*block))
            })
            .collect();
        Network { vpc, subnets }
    }
}

fn stack() -> (Stack, Binding) {
    let stack = Stack::new("components");
    let main = stack.provider(Account::new("main", "000000000000", "local-1"));
    (stack, main)
}

/// Two networks in components, one nested in a `shared` component, and a loose subnet.
fn grouped() -> StackSpec {
    let (stack, main) = stack();
    let app = Network::declare(&main, "app", "10.0.0.0/16", &["10.0.1.0/24"]);
    let shared = main.component("shared");
    let data = Network::declare(&shared, "data", "10.1.0.0/16", &["10.1.1.0/24", "10.1.2.0/24"]);
    main.add(Subnet::new("loose").vpc_id(app.vpc.id()).cidr_block("10.0.9.0/24"));
    stack.export("DataSubnets", data.subnets.len().to_string());
    stack.spec()
}

fn first_plan(spec: &StackSpec) -> Plan {
    cairn_engine::plan(spec, &cairn_engine::Snapshot::default()).expect("plans")
}

#[test]
fn a_components_resources_carry_its_prefix_and_its_name() {
    let spec = grouped();
    let named: Vec<(&str, Option<&str>)> = spec
        .resources
        .iter()
        .map(|resource| (resource.name.as_str(), resource.options.component.as_deref()))
        .collect();
    assert_eq!(
        named,
        [
            ("app-vpc", Some("app")),
            ("app-subnet-0", Some("app")),
            ("shared-data-vpc", Some("shared/data")),
            ("shared-data-subnet-0", Some("shared/data")),
            ("shared-data-subnet-1", Some("shared/data")),
            ("loose", None),
        ]
    );
}

#[test]
fn the_plan_groups_a_components_resources_under_its_name() {
    let text = render_plan(&first_plan(&grouped()), RenderOptions { color: false });
    insta::assert_snapshot!(text);
}

#[test]
fn the_graph_draws_each_component_as_a_cluster_in_its_binding() {
    insta::assert_snapshot!(cairn_engine::to_dot(&first_plan(&grouped())));
}

/// A state directory and the in-memory cloud behind it.
struct Deployed {
    _dir: tempfile::TempDir,
    store: Store,
    cloud: Arc<MemoryCloud>,
    runtime: tokio::runtime::Runtime,
}

impl Deployed {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("state")).expect("state");
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        Deployed { _dir: dir, store, cloud: Arc::new(MemoryCloud::new()), runtime }
    }

    fn plan(&self, spec: &StackSpec) -> Plan {
        cairn_engine::plan(spec, &self.store.snapshot().expect("snapshot")).expect("plans")
    }

    fn apply(&self, spec: &StackSpec) -> Plan {
        let plan = self.plan(spec);
        let options = ApplyOptions { parallelism: 4, kind: RunKind::Apply, started_at_unix: 1 };
        let report = self
            .runtime
            .block_on(cairn_engine::apply(
                &plan,
                &self.store,
                self.cloud.clone(),
                options,
                &NoProgress,
            ))
            .expect("applies");
        assert!(report.succeeded(), "{report:?}");
        plan
    }

    fn recorded(&self) -> Vec<String> {
        let snapshot = self.store.snapshot().expect("snapshot");
        snapshot.resources.values().map(|record| record.name.clone()).collect()
    }
}

/// The network declared loose (`vpc`, `subnet-0`), or wrapped in the `app` component.
fn network(wrapped: bool, moves: bool) -> StackSpec {
    let (stack, main) = stack();
    if wrapped {
        Network::declare(&main, "app", "10.0.0.0/16", &["10.0.1.0/24"]);
    } else {
        let vpc = main.add(Vpc::new("vpc").cidr_block("10.0.0.0/16"));
        main.add(Subnet::new("subnet-0").vpc_id(vpc.id()).cidr_block("10.0.1.0/24"));
    }
    if moves {
        stack.moved("vpc", "app-vpc");
        stack.moved("subnet-0", "app-subnet-0");
    }
    stack.spec()
}

#[test]
fn wrapping_resources_in_a_component_with_moved_mappings_changes_nothing_in_the_cloud() {
    let deployed = Deployed::new();
    deployed.apply(&network(false, false));
    let ids_before: Vec<String> = deployed.cloud.resources().keys().cloned().collect();

    let plan = deployed.plan(&network(true, true));
    assert!(plan.steps.iter().all(|step| step.action == Action::NoOp), "{:?}", plan.steps);
    assert_eq!(plan.renames().count(), 2);
    let text = render_plan(&plan, RenderOptions { color: false });
    assert!(text.contains("# moved from \"vpc\""), "{text}");
    assert!(text.contains("Plan: 0 to add, 0 to change, 0 to destroy."), "{text}");

    let calls_before = deployed.cloud.calls().len();
    deployed.apply(&network(true, true));
    assert_eq!(deployed.cloud.calls().len(), calls_before, "a rename makes no cloud call");
    assert_eq!(deployed.recorded(), ["app-subnet-0", "app-vpc"]);
    let ids_after: Vec<String> = deployed.cloud.resources().keys().cloned().collect();
    assert_eq!(ids_after, ids_before, "the same resources, none replaced");
    assert!(deployed.plan(&network(true, true)).is_empty(), "then nothing is left to do");
    assert!(deployed.plan(&network(true, false)).is_empty(), "and the mapping can go");
}

#[test]
fn without_moved_mappings_a_rename_is_a_delete_and_a_create() {
    let deployed = Deployed::new();
    deployed.apply(&network(false, false));
    let plan = deployed.plan(&network(true, false));
    let summary = plan.summary();
    assert_eq!((summary.add, summary.destroy), (2, 2), "{:?}", plan.steps);
    assert_eq!(plan.renames().count(), 0);
}

#[test]
fn a_move_to_a_name_nothing_declares_is_refused_with_the_fix() {
    let (stack, main) = stack();
    main.add(Vpc::new("vpc").cidr_block("10.0.0.0/16"));
    stack.moved("old", "nowhere");
    stack.moved("vpc", "vpc-renamed");
    let error = cairn_engine::plan(&stack.spec(), &cairn_engine::Snapshot::default())
        .expect_err("invalid moves");
    let message = error.to_string();
    assert!(
        message
            .contains("moved from `old` to `nowhere`: the program declares no resource `nowhere`"),
        "{message}"
    );
    assert!(
        message.contains("moved from `vpc` to `vpc-renamed`: the program still declares `vpc`"),
        "{message}"
    );
}
