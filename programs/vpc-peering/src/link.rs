//! The peering itself: the connection requested from A, the accepter role in B (trusted by
//! A with an external id read from Secrets Manager), its acceptance, DNS resolution from both
//! sides, and routes to the peer's CIDR (nothing wider) in every private route table.

use cairn::Input;
use cairn::aws::ec2::{
    Route, VpcPeeringConnection, VpcPeeringConnectionAccepter, VpcPeeringConnectionOptions,
};
use cairn::aws::iam::{Role, RolePolicy};
use cairn::aws::secretsmanager::SecretValue;
use cairn::{Binding, Declare, Output, Resource, json_template, tags};
use serde_json::json;

use super::network::Network;
use super::{PeeringConfig, SideContext};

/// The declared peering.
pub struct Link {
    /// The connection, requested from A.
    pub connection: Resource<VpcPeeringConnection>,
    /// Its acceptance in B: its id is known once the connection is active.
    pub accepter: Resource<VpcPeeringConnectionAccepter>,
}

/// The bindings the peering spans.
pub struct Places<'a> {
    /// Account A.
    pub trading: &'a Binding,
    /// Account B.
    pub analytics: &'a Binding,
    /// Account A's credentials in B's region: they assume the accepter role to accept.
    pub trading_in_accepter_region: &'a Binding,
}

/// Declares the peering between the two networks.
pub fn declare(
    places: &Places<'_>,
    config: &PeeringConfig,
    requester: (&SideContext<'_>, &Network),
    accepter: (&SideContext<'_>, &Network),
) -> Link {
    let (requester_side, requester_network) = requester;
    let (accepter_side, accepter_network) = accepter;
    let connection = places.trading.add(
        VpcPeeringConnection::new("trading-analytics-peering")
            .vpc_id(requester_network.vpc.id())
            .peer_vpc_id(accepter_network.vpc.id())
            .peer_owner_id(&config.analytics.account_id)
            .peer_region(&config.analytics.region)
            .tags(tags([("Name", requester_side.aws_name("to-analytics-peering").as_str())])),
    );
    let external_id = places.analytics.add(
        SecretValue::new("accepter-external-id").secret_id(&config.peering.external_id_secret),
    );
    let (role, permissions) =
        accepter_role(places.analytics, config, accepter_side, accepter_network, &external_id);
    let accepted = places.trading_in_accepter_region.add(
        VpcPeeringConnectionAccepter::new("analytics-accepts-peering")
            .vpc_peering_connection_id(connection.id())
            .accepter_role_arn(role.arn())
            .external_id(external_id.value())
            .tags(tags([("Name", accepter_side.aws_name("from-trading-peering").as_str())]))
            .depends_on(&permissions),
    );
    for (place, side, network, label) in [
        (places.trading, requester_side, requester_network, "requester"),
        (places.analytics, accepter_side, accepter_network, "accepter"),
    ] {
        place.add(
            VpcPeeringConnectionOptions::new(side.logical("peering-dns"))
                .vpc_peering_connection_id(accepted.id())
                .side(label)
                .allow_dns_resolution_from_remote_vpc(true),
        );
        peer_routes(place, side, network, accepted.id());
    }
    Link { connection, accepter: accepted }
}

/// The role in B that A assumes, with the external id, to accept the peering into B's VPC:
/// it may accept and set options on peerings into that VPC and nothing else. Returns the
/// role and its permissions.
fn accepter_role(
    place: &Binding,
    config: &PeeringConfig,
    side: &SideContext<'_>,
    network: &Network,
    external_id: &Resource<SecretValue>,
) -> (Resource<Role>, Resource<RolePolicy>) {
    let trust = json_template(
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "RequesterAccountWithExternalId",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::${requester}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "${external_id}"}}
            }]
        }),
        [
            ("requester", Input::string(&config.trading.account_id)),
            ("external_id", external_id.value().into()),
        ],
    );
    let role_name = format!("{}-{}", config.peering.accepter_role_name, config.environment_suffix);
    let role = place.add(
        Role::new("accepter-role")
            .name(&role_name)
            .description("Lets the trading account accept VPC peering into the analytics VPC")
            .assume_role_policy(trust)
            .max_session_duration(3600)
            .tags(tags([("Name", role_name.as_str())])),
    );
    let region = &config.analytics.region;
    let account = &config.analytics.account_id;
    let permissions = json_template(
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AcceptPeeringIntoTheAnalyticsVpc",
                    "Effect": "Allow",
                    "Action": ["ec2:AcceptVpcPeeringConnection", "ec2:ModifyVpcPeeringConnectionOptions"],
                    "Resource": "arn:aws:ec2:${region}:${account}:vpc-peering-connection/*",
                    "Condition": {"ArnEquals": {"ec2:AccepterVpc": "${vpc_arn}"}}
                },
                {
                    "Sid": "OnTheAnalyticsVpcOnly",
                    "Effect": "Allow",
                    "Action": ["ec2:AcceptVpcPeeringConnection", "ec2:ModifyVpcPeeringConnectionOptions"],
                    "Resource": "${vpc_arn}"
                },
                {
                    "Sid": "SeeThePeering",
                    "Effect": "Allow",
                    "Action": "ec2:DescribeVpcPeeringConnections",
                    "Resource": "*"
                }
            ]
        }),
        [
            ("region", Input::string(region)),
            ("account", Input::string(account)),
            ("vpc_arn", network.vpc.arn().into()),
        ],
    );
    let permissions = place.add(
        RolePolicy::new("accepter-role-peering")
            .role(role.id())
            .name(side.aws_name("accept-peering"))
            .policy(permissions),
    );
    (role, permissions)
}

/// A route to the peer VPC's CIDR through the peering in every private route table.
fn peer_routes(
    place: &Binding,
    side: &SideContext<'_>,
    network: &Network,
    peering: Output<String>,
) {
    for (index, table) in network.route_tables.iter().enumerate() {
        place.add(
            Route::new(side.logical(&format!("private-{}-to-peer", index + 1)))
                .route_table_id(table.id())
                .destination_cidr_block(&side.peer.cidr)
                .vpc_peering_connection_id(&peering),
        );
    }
}
