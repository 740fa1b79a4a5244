//! Security groups and their rules, network ACLs, their entries and subnet associations.

use cairn_engine::{Input, InputIssue, Resource, ResourceView};
use serde_json::Value;

use crate::checks::{check_range, cidr_issue, earlier_siblings, literal_i64, one_of, required};
use crate::resource;

resource! {
    /// A security group. Its rules are separate resources
    /// ([`SecurityGroupIngressRule`], [`SecurityGroupEgressRule`]).
    SecurityGroup(SecurityGroupArgs, SecurityGroupOutputs) "aws:ec2/SecurityGroup" {
        taggable: true,
        create_before_delete: false,
        validate: validate_security_group,
        inputs {
            /// The group's name, unique in its VPC; it cannot start with `sg-`.
            name: String [force_new, name],
            /// What it is for.
            description: String [force_new],
            /// The VPC it belongs to.
            vpc_id: String [force_new],
            /// Remove the allow-all egress rule AWS adds to every new group (and put it back
            /// when this turns false again).
            revoke_default_egress: bool,
            /// The rules of the group that no cairn resource declares (added by hand, or by
            /// another tool): declared empty, read back by `refresh`, and removed by the apply
            /// that follows, so that cairn owns the group's whole rule set. Leave it unset.
            unmanaged_rules: Vec<Value> [exclusive],
        }
        outputs {
            /// The group id (`sg-…`).
            id: String,
            /// The group's ARN.
            arn: String,
        }
    }
}

fn validate_security_group(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(view, &["name", "description", "vpc_id"]);
    if let Some(name) = view.literal_str("name").filter(|name| name.starts_with("sg-")) {
        found.push(InputIssue::new(
            "name",
            format!("`{name}` starts with `sg-`"),
            "AWS reserves the `sg-` prefix for group ids: choose another name",
        ));
    }
    found
}

resource! {
    /// One inbound rule of a security group: traffic from an IPv4 CIDR block.
    SecurityGroupIngressRule(SecurityGroupIngressRuleArgs, SecurityGroupIngressRuleOutputs) "aws:ec2/SecurityGroupIngressRule" {
        taggable: true,
        create_before_delete: false,
        validate: validate_rule,
        inputs {
            /// The security group the rule belongs to.
            security_group_id: String [force_new],
            /// `tcp`, `udp`, `icmp` or `-1` (every protocol).
            ip_protocol: String [force_new],
            /// The first port (the ICMP type for `icmp`); unset for `-1`.
            from_port: i64 [force_new],
            /// The last port (the ICMP code for `icmp`); unset for `-1`.
            to_port: i64 [force_new],
            /// The IPv4 CIDR block the traffic comes from.
            cidr_ipv4: String [force_new],
            /// What the rule is for; changes in place.
            description: String,
        }
        outputs {
            /// The rule id (`sgr-…`).
            id: String,
        }
    }
}

resource! {
    /// One outbound rule of a security group: traffic to an IPv4 CIDR block.
    SecurityGroupEgressRule(SecurityGroupEgressRuleArgs, SecurityGroupEgressRuleOutputs) "aws:ec2/SecurityGroupEgressRule" {
        taggable: true,
        create_before_delete: false,
        validate: validate_rule,
        inputs {
            /// The security group the rule belongs to.
            security_group_id: String [force_new],
            /// `tcp`, `udp`, `icmp` or `-1` (every protocol).
            ip_protocol: String [force_new],
            /// The first port (the ICMP type for `icmp`); unset for `-1`.
            from_port: i64 [force_new],
            /// The last port (the ICMP code for `icmp`); unset for `-1`.
            to_port: i64 [force_new],
            /// The IPv4 CIDR block the traffic goes to.
            cidr_ipv4: String [force_new],
            /// What the rule is for; changes in place.
            description: String,
        }
        outputs {
            /// The rule id (`sgr-…`).
            id: String,
        }
    }
}

/// The protocols a security group rule accepts.
const RULE_PROTOCOLS: [&str; 4] = ["tcp", "udp", "icmp", "-1"];

fn validate_rule(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(view, &["security_group_id", "ip_protocol", "cidr_ipv4"]);
    found.extend(one_of(view, "ip_protocol", &RULE_PROTOCOLS));
    found.extend(cidr_issue(view, "cidr_ipv4"));
    match view.literal_str("ip_protocol") {
        Some("tcp" | "udp") => found.extend(port_range_issues(view)),
        Some("-1") => found.extend(no_ports(view, "`-1` (every protocol)")),
        _ => {}
    }
    found
}

resource! {
    /// A network ACL of a VPC. Its entries are [`NetworkAclEntry`] resources; a new ACL denies
    /// everything until entries allow it.
    NetworkAcl(NetworkAclArgs, NetworkAclOutputs) "aws:ec2/NetworkAcl" {
        taggable: true,
        create_before_delete: true,
        validate: validate_network_acl,
        inputs {
            /// The VPC it belongs to.
            vpc_id: String [force_new],
            /// The entries the program declares for this ACL (`ingress:100`), filled in by the
            /// stack from the [`NetworkAclEntry`] resources that name it. Leave it unset.
            declared_entries: Vec<String>,
            /// The entries of the ACL that none of `declared_entries` names (added by hand, or
            /// by another tool): declared empty, read back by `refresh`, and deleted by the
            /// apply that follows, so that cairn owns the whole rule set. Leave it unset.
            unmanaged_entries: Vec<Value> [exclusive],
        }
        outputs {
            /// The network ACL id (`acl-…`).
            id: String,
        }
    }
}

fn validate_network_acl(view: &ResourceView<'_>) -> Vec<InputIssue> {
    required(view, &["vpc_id"])
}

resource! {
    /// One numbered entry of a network ACL. Entries are evaluated from the lowest number up;
    /// the first that matches decides.
    NetworkAclEntry(NetworkAclEntryArgs, NetworkAclEntryOutputs) "aws:ec2/NetworkAclEntry" {
        taggable: false,
        create_before_delete: false,
        validate: validate_network_acl_entry,
        inputs {
            /// The network ACL.
            network_acl_id: String [force_new],
            /// The rule number, 1 to 32766, unique per direction in the ACL.
            rule_number: i64 [force_new],
            /// Whether it applies to outbound traffic (otherwise inbound).
            egress: bool [force_new],
            /// `tcp` (`6`), `udp` (`17`) or `all` (`-1`).
            protocol: String,
            /// `allow` or `deny`.
            rule_action: String,
            /// The IPv4 CIDR block it matches.
            cidr_block: String,
            /// The first port, for `tcp` and `udp`.
            from_port: i64,
            /// The last port, for `tcp` and `udp`.
            to_port: i64,
        }
        outputs {
            /// `<acl id>:<ingress|egress>:<rule number>`.
            id: String,
        }
    }
}

/// The protocols a network ACL entry accepts, by name or number.
const ENTRY_PROTOCOLS: [&str; 6] = ["tcp", "udp", "all", "6", "17", "-1"];

/// An entry whose rule number an earlier entry of the same ACL and direction already uses.
fn repeated_rule_number(view: &ResourceView<'_>) -> Option<InputIssue> {
    let number = literal_i64(view, "rule_number")?;
    let egress = view.input("egress").and_then(Input::as_literal).and_then(Value::as_bool);
    let earlier = earlier_siblings(view, "network_acl_id").find(|other| {
        other.inputs.get("rule_number").and_then(Input::as_literal).and_then(Value::as_i64)
            == Some(number)
            && other.inputs.get("egress").and_then(Input::as_literal).and_then(Value::as_bool)
                == egress
    })?;
    let direction = if egress == Some(true) { "egress" } else { "ingress" };
    Some(InputIssue::new(
        "rule_number",
        format!(
            "{direction} rule number {number} is already used by `{}` in the same ACL",
            earlier.name
        ),
        "give every entry of one direction its own rule number",
    ))
}

fn validate_network_acl_entry(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(
        view,
        &["network_acl_id", "rule_number", "egress", "protocol", "rule_action", "cidr_block"],
    );
    if let Some(number) = literal_i64(view, "rule_number").filter(|n| !(1..=32766).contains(n)) {
        found.push(InputIssue::new(
            "rule_number",
            format!("rule number {number} is out of range"),
            "use 1 to 32766 (32767 is the implicit deny-all entry)",
        ));
    }
    found.extend(repeated_rule_number(view));
    found.extend(one_of(view, "protocol", &ENTRY_PROTOCOLS));
    found.extend(one_of(view, "rule_action", &["allow", "deny"]));
    found.extend(cidr_issue(view, "cidr_block"));
    match view.literal_str("protocol") {
        Some("tcp" | "udp" | "6" | "17") => found.extend(port_range_issues(view)),
        Some("all" | "-1") => found.extend(no_ports(view, "`all`")),
        _ => {}
    }
    found
}

resource! {
    /// Makes a subnet use a network ACL instead of its VPC's default one. Deleting it puts
    /// the subnet back on the default network ACL.
    SubnetNetworkAclAssociation(SubnetNetworkAclAssociationArgs, SubnetNetworkAclAssociationOutputs) "aws:ec2/SubnetNetworkAclAssociation" {
        taggable: false,
        create_before_delete: false,
        validate: validate_association,
        inputs {
            /// The subnet.
            subnet_id: String [force_new],
            /// The network ACL; changing it moves the subnet to the new ACL in place.
            network_acl_id: String,
        }
        outputs {
            /// The association id (`aclassoc-…`); AWS issues a new one whenever the subnet
            /// moves to another ACL.
            id: String,
        }
    }
}

fn validate_association(view: &ResourceView<'_>) -> Vec<InputIssue> {
    required(view, &["subnet_id", "network_acl_id"])
}

/// Checks `from_port` and `to_port` of a protocol that has ports.
fn port_range_issues(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(view, &["from_port", "to_port"]);
    found.extend(check_range(view, "from_port", 0..=65535));
    found.extend(check_range(view, "to_port", 0..=65535));
    if let (Some(from), Some(to)) = (literal_i64(view, "from_port"), literal_i64(view, "to_port"))
        && from > to
    {
        found.push(InputIssue::new(
            "to_port",
            format!("the range {from}-{to} ends before it starts"),
            "make to_port at least from_port",
        ));
    }
    found
}

/// Checks that a protocol covering every port sets no ports.
fn no_ports(view: &ResourceView<'_>, protocol: &str) -> Vec<InputIssue> {
    ["from_port", "to_port"]
        .into_iter()
        .filter(|property| view.input(property).is_some())
        .map(|property| {
            InputIssue::new(
                property,
                format!("{protocol} covers every port, so `{property}` means nothing"),
                format!("leave `{property}` unset"),
            )
        })
        .collect()
}

/// How an ACL's `declared_entries` names an entry: `ingress:100`, `egress:100`.
pub fn entry_key(egress: bool, rule_number: i64) -> String {
    format!("{}:{rule_number}", if egress { "egress" } else { "ingress" })
}

/// The key an entry resource has in its ACL's `declared_entries`, when its number is literal.
pub(crate) fn declared_entry_key(entry: &Resource) -> Option<String> {
    let literal = |name: &str| entry.inputs.get(name).and_then(Input::as_literal);
    let number = literal("rule_number").and_then(Value::as_i64)?;
    Some(entry_key(literal("egress").and_then(Value::as_bool).unwrap_or(false), number))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::faults;

    fn rule(protocol: &str) -> SecurityGroupIngressRule {
        SecurityGroupIngressRule::new("rule")
            .security_group_id("sg-1")
            .ip_protocol(protocol)
            .cidr_ipv4("10.1.0.0/16")
    }

    #[test]
    fn rules_need_sensible_protocols_and_ports() {
        assert!(faults(rule("tcp").from_port(443_i64).to_port(443_i64)).is_empty());
        assert!(faults(rule("-1")).is_empty());
        assert_eq!(faults(rule("gre")), ["ip_protocol"]);
        assert_eq!(faults(rule("tcp")), ["from_port", "to_port"]);
        assert_eq!(faults(rule("tcp").from_port(443_i64).to_port(80_i64)), ["to_port"]);
        assert_eq!(faults(rule("udp").from_port(0_i64).to_port(70000_i64)), ["to_port"]);
        assert_eq!(faults(rule("-1").from_port(0_i64)), ["from_port"]);
        assert_eq!(
            faults(rule("tcp").cidr_ipv4("10.1.0.1/16").from_port(1_i64).to_port(1_i64)),
            ["cidr_ipv4"]
        );
    }

    #[test]
    fn entries_need_a_number_in_range_and_a_known_protocol() {
        let entry = |number: i64, protocol: &str| {
            NetworkAclEntry::new("entry")
                .network_acl_id("acl-1")
                .rule_number(number)
                .egress(false)
                .protocol(protocol)
                .rule_action("allow")
                .cidr_block("10.1.0.0/16")
        };
        assert!(faults(entry(100, "all")).is_empty());
        assert!(faults(entry(100, "6").from_port(443_i64).to_port(443_i64)).is_empty());
        assert_eq!(faults(entry(32767, "all")), ["rule_number"]);
        assert_eq!(faults(entry(100, "icmp")), ["protocol"]);
        assert_eq!(faults(entry(100, "all").rule_action("permit")), ["rule_action"]);
    }

    #[test]
    fn the_rules_nobody_declares_cannot_be_declared() {
        let group = SecurityGroup::new("group").name("web").description("d").vpc_id("vpc-1");
        assert!(faults(group.clone()).is_empty(), "declared empty by itself");
        let hand_made = crate::__private::empty_list();
        let listed = cairn_engine::Input::Literal(serde_json::json!([{"id": "sgr-1"}]));
        assert!(faults(group.clone().unmanaged_rules(hand_made)).is_empty());
        assert_eq!(faults(group.unmanaged_rules(listed)), ["unmanaged_rules"]);
    }

    #[test]
    fn groups_need_their_names() {
        let group = SecurityGroup::new("group").description("d").vpc_id("vpc-1");
        assert_eq!(faults(group.clone()), ["name"]);
        assert_eq!(faults(group.name("sg-web")), ["name"]);
    }
}
