//! Secure cross-account VPC peering between a trading VPC (account A) and an analytics VPC
//! (account B): the customer's specification in `../shared/DESIGN.md` section 6.
//!
//! Per side ([`network`], [`security`]): a VPC with DNS support and host names, private
//! subnets in three zones with a route table each, an optional NAT gateway, gateway endpoints
//! for S3 and DynamoDB, a security group open on the application ports to named CIDR blocks
//! only, and a strict NACL on the private subnets. Between them ([`link`]): the peering
//! requested from A and accepted in B through an accepter role that A assumes with an
//! external id read from Secrets Manager, DNS resolution from both sides, and routes to the
//! peer's CIDR. Around them ([`monitoring`], [`compliance`]): flow logs to a KMS-encrypted
//! bucket, rejected-traffic alarms, a dashboard, and AWS Config rules. Every taggable
//! resource carries the configured tags; every name carries the environment suffix; every
//! account id, region and CIDR comes from the stack config.

pub mod compliance;
pub mod config;
pub mod link;
pub mod monitoring;
pub mod network;
pub mod security;

use cairn::aws::Account;
use cairn::{ConfigProblem, Input, PolicySettings, Program, Stack};

pub use config::{PeeringConfig, Side, check, configured_values};

/// The program's name.
pub const NAME: &str = "vpc-peering";

/// The peering program, for [`cairn::run`].
pub struct Peering;

impl Program for Peering {
    type Config = PeeringConfig;
    type Error = ConfigProblem;

    fn name(&self) -> &str {
        NAME
    }

    fn stack_name(&self, config: &PeeringConfig) -> String {
        config.stack.clone()
    }

    fn check(&self, config: &PeeringConfig) -> Result<(), ConfigProblem> {
        check(config)
    }

    fn declare(&self, stack: &Stack, config: &PeeringConfig) {
        declare(stack, config);
    }
}

/// Every IPv4 address: only ever the destination of a NAT route or an explicit NACL deny.
pub const INTERNET: &str = "0.0.0.0/0";

/// The tags every taggable resource must carry.
pub const REQUIRED_TAGS: [&str; 2] = ["CostCenter", "Environment"];

/// What one side's declarations need to know.
pub struct SideContext<'a> {
    /// `trading` or `analytics`: the prefix of its logical names.
    pub label: &'static str,
    /// The other side's label.
    pub peer_label: &'static str,
    /// This side's config.
    pub config: &'a Side,
    /// The other side's config.
    pub peer: &'a Side,
    /// The environment suffix of every AWS name.
    pub suffix: &'a str,
    /// The application ports.
    pub ports: &'a [u16],
    /// The CIDR blocks allowed to reach the application ports.
    pub allowed_sources: Vec<String>,
    /// Extra CIDR blocks the NACL allows 443 to.
    pub endpoint_cidrs: &'a [String],
}

impl SideContext<'_> {
    /// A logical name in the stack: `trading-private-1`.
    pub fn logical(&self, what: &str) -> String {
        format!("{}-{what}", self.label)
    }

    /// A name given to AWS, with the environment suffix: `trading-app-sg-x7k2`.
    pub fn aws_name(&self, what: &str) -> String {
        format!("{}-{what}-{}", self.label, self.suffix)
    }
}

/// Declares the peering program into `stack`.
pub fn declare(stack: &Stack, config: &PeeringConfig) {
    stack.set_default_tags(config.tags.clone());
    stack.enforce(&cairn::policy::AWS_PACK, policy_settings(config));
    let trading =
        stack.provider(binding("trading", &config.trading, &config.trading.region, config));
    let analytics =
        stack.provider(binding("analytics", &config.analytics, &config.analytics.region, config));
    let trading_in_accepter_region = stack.provider(binding(
        "trading-in-analytics-region",
        &config.trading,
        &config.analytics.region,
        config,
    ));
    let requester =
        side_context(config, "trading", &config.trading, "analytics", &config.analytics);
    let accepter = side_context(config, "analytics", &config.analytics, "trading", &config.trading);

    let requester_network = secured_vpc(&trading, &requester);
    let accepter_network = secured_vpc(&analytics, &accepter);
    let places = link::Places {
        trading: &trading,
        analytics: &analytics,
        trading_in_accepter_region: &trading_in_accepter_region,
    };
    let peering = link::declare(
        &places,
        config,
        (&requester, &requester_network),
        (&accepter, &accepter_network),
    );
    let archive = monitoring::declare_archive(&trading, config, &requester);
    let requester_monitoring =
        monitoring::declare_side(&trading, config, &requester, &requester_network, &archive);
    let accepter_monitoring =
        monitoring::declare_side(&analytics, config, &accepter, &accepter_network, &archive);
    let (_, dashboard_url) = monitoring::declare_dashboard(
        &trading,
        config,
        [(&requester, &requester_monitoring), (&accepter, &accepter_monitoring)],
        peering.connection.id(),
    );
    compliance::declare(&trading, config, &requester, &requester_network, &archive);
    compliance::declare(&analytics, config, &accepter, &accepter_network, &archive);

    export_outputs(
        stack,
        &peering,
        [("Trading", &requester_network), ("Analytics", &accepter_network)],
    );
    stack.export("DashboardUrl", dashboard_url);
    stack.export("FlowLogBucket", archive.bucket.id());
}

/// One side's secured VPC, a component named after the side (`trading`, `analytics`): the
/// network ([`network`]) and what locks it down ([`security`]), its resources named
/// `<side>-<child>` and shown as one group in the plan and one cluster in the graph. Its
/// typed outputs are the [`network::Network`] it returns.
pub fn secured_vpc(place: &cairn::Binding, side: &SideContext<'_>) -> network::Network {
    let component = place.component(side.label);
    let network = network::declare(&component, side);
    security::declare(&component, side, &network);
    network
}

fn export_outputs(stack: &Stack, peering: &link::Link, sides: [(&str, &network::Network); 2]) {
    stack.export("PeeringConnectionId", peering.connection.id());
    stack.export("PeeringStatus", peering.accepter.status());
    for (label, network) in sides {
        stack.export(format!("{label}VpcId"), network.vpc.id());
        let tables: Vec<Input> =
            network.route_tables.iter().map(|table| table.id().into()).collect();
        for (number, table) in tables.iter().enumerate() {
            stack.export(format!("{label}PrivateRouteTable{}Id", number + 1), table.clone());
        }
        let joined = tables.iter().enumerate().flat_map(|(index, table)| {
            let separator = (index > 0).then(|| Input::string(","));
            separator.into_iter().chain(std::iter::once(table.clone()))
        });
        stack.export(format!("{label}PrivateRouteTableIds"), Input::Concat(joined.collect()));
    }
}

fn side_context<'a>(
    config: &'a PeeringConfig,
    label: &'static str,
    side: &'a Side,
    peer_label: &'static str,
    peer: &'a Side,
) -> SideContext<'a> {
    SideContext {
        label,
        peer_label,
        config: side,
        peer,
        suffix: &config.environment_suffix,
        ports: &config.peering.allowed_ports,
        allowed_sources: side.allowed_sources(peer),
        endpoint_cidrs: &config.peering.endpoint_cidrs,
    }
}

/// A provider binding: `side`'s account and deployer role, in `region`.
fn binding(name: &str, side: &Side, region: &str, config: &PeeringConfig) -> Account {
    let mut account = Account::new(name, &side.account_id, region)
        .session_name(format!("cairn-{}-{}", config.stack, config.environment_suffix));
    if let Some(role) = &side.deployer_role_arn {
        account = account.deployer_role(role);
    }
    if let Some(external_id) = &side.deployer_external_id {
        account = account.deployer_external_id(external_id);
    }
    account
}

/// The policy pack's settings from the config.
pub fn policy_settings(config: &PeeringConfig) -> PolicySettings {
    PolicySettings {
        required_tags: REQUIRED_TAGS.iter().map(|tag| (*tag).to_owned()).collect(),
        allowed_ports: config.peering.allowed_ports.clone(),
        environment_suffix: config.environment_suffix.clone(),
        configured_values: configured_values(config),
    }
}
