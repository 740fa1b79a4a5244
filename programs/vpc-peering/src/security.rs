//! One side's traffic rules: a security group for the application ports, open only to the
//! named CIDR blocks with egress only to the peer, and a network ACL on the private subnets
//! that allows the application ports and their return traffic between the two VPCs'
//! private subnets and denies everything else explicitly.
//!
//! A strict NACL also blocks what AWS routes to public service addresses: S3 and DynamoDB
//! reached through the gateway endpoints, and the internet through a NAT gateway. List the
//! region's S3/DynamoDB prefix-list CIDRs in `peering.endpoint_cidrs` to let the private
//! subnets reach them on 443; 0.0.0.0/0 is never allowed.

use cairn::aws::ec2::{
    NetworkAcl, NetworkAclEntry, SecurityGroup, SecurityGroupEgressRule, SecurityGroupIngressRule,
    SubnetNetworkAclAssociation,
};
use cairn::{Binding, Declare, tags};

use super::SideContext;
use super::network::Network;

/// The first port of the ephemeral range return traffic uses.
const EPHEMERAL_FROM: i64 = 1024;
/// The last port of the ephemeral range.
const EPHEMERAL_TO: i64 = 65535;
/// The rule number of the explicit deny-all entries.
const DENY_RULE: i64 = 32000;

/// Declares the security group and the NACL of a side.
pub fn declare(place: &Binding, side: &SideContext<'_>, network: &Network) {
    security_group(place, side, network);
    network_acl(place, side, network);
}

fn security_group(place: &Binding, side: &SideContext<'_>, network: &Network) {
    let group = place.add(
        SecurityGroup::new("app-sg")
            .name(side.aws_name("app-sg"))
            .description(format!(
                "Application ports open to the peered {} VPC only",
                side.peer_label
            ))
            .vpc_id(network.vpc.id())
            .revoke_default_egress(true)
            .tags(tags([("Name", side.aws_name("app-sg").as_str())])),
    );
    for &port in side.ports {
        for (index, cidr) in side.allowed_sources.iter().enumerate() {
            place.add(
                SecurityGroupIngressRule::new(format!("app-sg-in-{port}-{}", index + 1))
                    .security_group_id(group.id())
                    .ip_protocol("tcp")
                    .from_port(i64::from(port))
                    .to_port(i64::from(port))
                    .cidr_ipv4(cidr)
                    .description(format!("tcp {port} from {cidr}")),
            );
        }
        place.add(
            SecurityGroupEgressRule::new(format!("app-sg-out-{port}"))
                .security_group_id(group.id())
                .ip_protocol("tcp")
                .from_port(i64::from(port))
                .to_port(i64::from(port))
                .cidr_ipv4(&side.peer.cidr)
                .description(format!("tcp {port} to the peer VPC")),
        );
    }
}

/// One NACL entry to declare.
struct Entry {
    egress: bool,
    number: i64,
    action: &'static str,
    protocol: &'static str,
    cidr: String,
    ports: Option<(i64, i64)>,
}

/// The entries of a side's NACL: the application ports and return traffic to and from each
/// peer private subnet, 443 to the endpoint CIDRs, then an explicit deny of everything else.
fn entries(side: &SideContext<'_>) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut number = 100;
    let mut allow = |egress: bool, cidr: &str, ports: (i64, i64)| {
        entries.push(Entry {
            egress,
            number,
            action: "allow",
            protocol: "tcp",
            cidr: cidr.to_owned(),
            ports: Some(ports),
        });
        number += 10;
    };
    for peer_subnet in &side.peer.private_subnets {
        for &port in side.ports {
            allow(false, peer_subnet, (i64::from(port), i64::from(port)));
            allow(true, peer_subnet, (i64::from(port), i64::from(port)));
        }
        allow(false, peer_subnet, (EPHEMERAL_FROM, EPHEMERAL_TO));
        allow(true, peer_subnet, (EPHEMERAL_FROM, EPHEMERAL_TO));
    }
    for endpoint_cidr in side.endpoint_cidrs {
        allow(true, endpoint_cidr, (443, 443));
        allow(false, endpoint_cidr, (EPHEMERAL_FROM, EPHEMERAL_TO));
    }
    for egress in [false, true] {
        entries.push(Entry {
            egress,
            number: DENY_RULE,
            action: "deny",
            protocol: "-1",
            cidr: super::INTERNET.to_owned(),
            ports: None,
        });
    }
    entries
}

fn network_acl(place: &Binding, side: &SideContext<'_>, network: &Network) {
    let acl = place.add(
        NetworkAcl::new("private-nacl")
            .vpc_id(network.vpc.id())
            .tags(tags([("Name", side.aws_name("private-nacl").as_str())])),
    );
    for entry in entries(side) {
        let direction = if entry.egress { "out" } else { "in" };
        let mut declared =
            NetworkAclEntry::new(format!("private-nacl-{direction}-{}", entry.number))
                .network_acl_id(acl.id())
                .rule_number(entry.number)
                .egress(entry.egress)
                .protocol(entry.protocol)
                .rule_action(entry.action)
                .cidr_block(entry.cidr);
        if let Some((from, to)) = entry.ports {
            declared = declared.from_port(from).to_port(to);
        }
        place.add(declared);
    }
    for (index, subnet) in network.private_subnets.iter().enumerate() {
        place.add(
            SubnetNetworkAclAssociation::new(format!("private-{}-nacl-assoc", index + 1))
                .subnet_id(subnet.id())
                .network_acl_id(acl.id()),
        );
    }
}
