//! The built-in AWS policy pack: rules every plan checks on the declared graph, before any
//! API call. AWS (and the emulator) accept many requests that break a security baseline;
//! these rules catch them first. Each violation names the resource, the property, the
//! offending value and the fix; a resource may waive a rule with a reason
//! ([`Declare::waive`](crate::Declare::waive)), which the plan prints.

use std::collections::BTreeSet;

use cairn_engine::{
    DriftKind, DriftReport, Input, OutputRef, PolicyContext, PolicyRule, Resource, Severity,
    StackSpec, Violation,
};
use ipnet::Ipv4Net;
use serde_json::Value;

/// Every rule of the pack, in the order they run.
pub static AWS_PACK: [&PolicyRule; 13] = [
    &MANDATORY_TAGS,
    &NO_OPEN_CIDR,
    &SG_ALLOWED_PORTS,
    &PEERING_ROUTE_SCOPE,
    &FLOW_LOGS_ON_EVERY_VPC,
    &PEERING_CIDRS_DISJOINT,
    &NAME_HAS_SUFFIX,
    &NO_HARDCODED_IDENTIFIERS,
    &DESTROYABLE,
    &KMS_ENCRYPTION,
    &S3_PUBLIC_ACCESS_BLOCKED,
    &IAM_NO_ADMIN_WILDCARD,
    &IAM_CROSS_ACCOUNT_EXTERNAL_ID,
];

const SECURITY_GROUP_RULES: [&str; 2] =
    ["aws:ec2/SecurityGroupIngressRule", "aws:ec2/SecurityGroupEgressRule"];
const INGRESS_RULE: &str = "aws:ec2/SecurityGroupIngressRule";
const NACL_ENTRY: &str = "aws:ec2/NetworkAclEntry";
const ROUTE: &str = "aws:ec2/Route";
const PEERING: &str = "aws:ec2/VpcPeeringConnection";
const ACCEPTER: &str = "aws:ec2/VpcPeeringConnectionAccepter";
const PEERING_OPTIONS: &str = "aws:ec2/VpcPeeringConnectionOptions";
const VPC: &str = "aws:ec2/Vpc";
const FLOW_LOG: &str = "aws:ec2/FlowLog";
const BUCKET: &str = "aws:s3/Bucket";
const LOG_GROUP: &str = "aws:logs/LogGroup";
const ROLE: &str = "aws:iam/Role";
const ROLE_POLICY: &str = "aws:iam/RolePolicy";
const ROLE_POLICY_ATTACHMENT: &str = "aws:iam/RolePolicyAttachment";

/// Environment names that must come from configuration, never from code.
const ENVIRONMENT_NAMES: [&str; 6] =
    ["prod", "dev", "stage", "production", "development", "staging"];

/// Every taggable resource carries the mandatory tags.
pub static MANDATORY_TAGS: PolicyRule = PolicyRule {
    id: "mandatory-tags",
    description: "Every taggable resource carries the mandatory tags (CostCenter, Environment).",
    severity: Severity::Error,
    check: mandatory_tags,
};

/// No security group rule or NACL allow entry is open to the world.
pub static NO_OPEN_CIDR: PolicyRule = PolicyRule {
    id: "no-open-cidr",
    description: "No 0.0.0.0/0 or ::/0 in security group rules (ingress or egress) or NACL allow entries.",
    severity: Severity::Error,
    check: no_open_cidr,
};

/// Security group ingress opens only the allowed ports.
pub static SG_ALLOWED_PORTS: PolicyRule = PolicyRule {
    id: "sg-allowed-ports",
    description: "Security group ingress only on the allowed ports (443 and 5432 unless configured).",
    severity: Severity::Error,
    check: sg_allowed_ports,
};

/// Routes through a peering reach the peer VPC and nothing wider.
pub static PEERING_ROUTE_SCOPE: PolicyRule = PolicyRule {
    id: "peering-route-scope",
    description: "Routes through a peering connection are no wider than the peer VPC's CIDR.",
    severity: Severity::Error,
    check: peering_route_scope,
};

/// Every VPC has a flow log capturing all traffic.
pub static FLOW_LOGS_ON_EVERY_VPC: PolicyRule = PolicyRule {
    id: "flow-logs-on-every-vpc",
    description: "Every VPC has a flow log capturing ALL traffic.",
    severity: Severity::Error,
    check: flow_logs_on_every_vpc,
};

/// Peered VPCs do not overlap.
pub static PEERING_CIDRS_DISJOINT: PolicyRule = PolicyRule {
    id: "peering-cidrs-disjoint",
    description: "The CIDR blocks of peered VPCs do not overlap.",
    severity: Severity::Error,
    check: peering_cidrs_disjoint,
};

/// Every name given to AWS contains the environment suffix.
pub static NAME_HAS_SUFFIX: PolicyRule = PolicyRule {
    id: "name-has-suffix",
    description: "Every named resource's name contains the environment suffix.",
    severity: Severity::Error,
    check: name_has_suffix,
};

/// Account ids, regions and environment names come from configuration.
pub static NO_HARDCODED_IDENTIFIERS: PolicyRule = PolicyRule {
    id: "no-hardcoded-identifiers",
    description: "No account id, region or environment name (prod, dev, stage, ...) in a value unless configuration supplied it.",
    severity: Severity::Error,
    check: no_hardcoded_identifiers,
};

/// Everything can be destroyed.
pub static DESTROYABLE: PolicyRule = PolicyRule {
    id: "destroyable",
    description: "Every resource can be destroyed: nothing protected, S3 buckets force-destroy their objects.",
    severity: Severity::Error,
    check: destroyable,
};

/// Data at rest is encrypted with KMS.
pub static KMS_ENCRYPTION: PolicyRule = PolicyRule {
    id: "kms-encryption",
    description: "S3 buckets and log groups are encrypted with a KMS key.",
    severity: Severity::Error,
    check: kms_encryption,
};

/// S3 buckets block public access.
pub static S3_PUBLIC_ACCESS_BLOCKED: PolicyRule = PolicyRule {
    id: "s3-public-access-blocked",
    description: "S3 buckets block all public access.",
    severity: Severity::Error,
    check: s3_public_access_blocked,
};

/// No IAM policy allows every action on every resource.
pub static IAM_NO_ADMIN_WILDCARD: PolicyRule = PolicyRule {
    id: "iam-no-admin-wildcard",
    description: "No IAM policy allows action * on resource *, and no role gets AdministratorAccess.",
    severity: Severity::Error,
    check: iam_no_admin_wildcard,
};

/// Cross-account trust requires an external id.
pub static IAM_CROSS_ACCOUNT_EXTERNAL_ID: PolicyRule = PolicyRule {
    id: "iam-cross-account-external-id",
    description: "A role trusted by another account requires an sts:ExternalId condition.",
    severity: Severity::Error,
    check: iam_cross_account_external_id,
};

/// A violation of `resource`'s `property`.
fn violation(
    resource: &Resource,
    property: &str,
    value: impl Into<String>,
    problem: impl Into<String>,
    fix: impl Into<String>,
) -> Violation {
    Violation {
        resource: resource.name.clone(),
        property: property.to_owned(),
        value: value.into(),
        problem: problem.into(),
        fix: fix.into(),
    }
}

/// The value of an input with every reference standing as `${resource.output}`: what can be
/// known of it before apply.
fn static_value(input: &Input) -> Value {
    let placeholder = |reference: &OutputRef| {
        Some(Value::String(format!("${{{}.{}}}", reference.resource, reference.output)))
    };
    cairn_engine::value::reveal(&input.resolve(&placeholder))
}

fn literal_str<'a>(resource: &'a Resource, property: &str) -> Option<&'a str> {
    resource.inputs.get(property).and_then(Input::as_literal_str)
}

fn literal_bool(resource: &Resource, property: &str) -> Option<bool> {
    resource.inputs.get(property).and_then(Input::as_literal).and_then(Value::as_bool)
}

fn literal_i64(resource: &Resource, property: &str) -> Option<i64> {
    resource.inputs.get(property).and_then(Input::as_literal).and_then(Value::as_i64)
}

/// The resource a plain-reference property points at.
fn referenced<'a>(
    stack: &'a StackSpec,
    resource: &Resource,
    property: &str,
) -> Option<&'a Resource> {
    stack.resource(&resource.reference(property)?.resource)
}

fn vpc_cidr(vpc: &Resource) -> Option<Ipv4Net> {
    literal_str(vpc, "cidr_block")?.parse().ok()
}

fn mandatory_tags(context: &PolicyContext<'_>) -> Vec<Violation> {
    let required = &context.settings.required_tags;
    context
        .stack
        .resources
        .iter()
        .filter(|resource| resource.schema.taggable)
        .filter_map(|resource| {
            let tags = resource.inputs.get(crate::TAGS).map(static_value).unwrap_or(Value::Null);
            let missing: Vec<&str> = required
                .iter()
                .filter(|key| tags.get(key.as_str()).and_then(Value::as_str).is_none_or(str::is_empty))
                .map(String::as_str)
                .collect();
            (!missing.is_empty()).then(|| {
                violation(
                    resource,
                    crate::TAGS,
                    tags.to_string(),
                    format!("lacks the mandatory tag(s) {}", missing.join(", ")),
                    "set them in the stack config's [tags] (every resource gets them) or on the resource",
                )
            })
        })
        .collect()
}

/// The properties in which a type reads back what no resource of the stack declares, what
/// the type is called in a sentence, and which field of an item names it.
const UNMANAGED: [(&str, &str, &str); 2] = [
    ("unmanaged_rules", "security group", "id"),
    ("unmanaged_entries", "network ACL", "rule_number"),
];

/// The `no-open-cidr` policy applied to what a refresh found changed outside cairn: each
/// unmanaged security group rule or network ACL allow entry open to every address, as a
/// sentence naming the resource, the rule and the fix.
pub fn drift_violations(report: &DriftReport) -> Vec<String> {
    let mut found = Vec::new();
    for drift in &report.drift {
        let DriftKind::Changed(changes) = &drift.kind else { continue };
        for change in changes {
            let Some((_, what, id)) = UNMANAGED.iter().find(|(name, ..)| *name == change.property)
            else {
                continue;
            };
            let items = change.observed.as_array().into_iter().flatten();
            let open = items.filter(|item| {
                item["cidr"].as_str().is_some_and(is_open) && item["rule_action"] != "deny"
            });
            for item in open {
                found.push(open_item_sentence(what, &drift.name, &drift.binding, &item[*id], item));
            }
        }
    }
    found
}

/// One open rule `item` of `what` `name`, as a sentence.
fn open_item_sentence(what: &str, name: &str, binding: &str, id: &Value, item: &Value) -> String {
    let text = |value: &Value| match value {
        Value::String(text) => text.clone(),
        Value::Null => "any".to_owned(),
        other => other.to_string(),
    };
    let towards = if item["direction"] == "egress" { "to" } else { "from" };
    format!(
        "policy no-open-cidr: {what} `{name}` in {binding} has {} rule {} ({} {}-{} {towards} {}), \
         made outside cairn, open to every address on the internet: `plan` and `apply` remove it",
        text(&item["direction"]),
        text(id),
        text(&item["protocol"]),
        text(&item["from_port"]),
        text(&item["to_port"]),
        text(&item["cidr"]),
    )
}

/// Whether a CIDR text is open to every address.
fn is_open(cidr: &str) -> bool {
    cidr.trim().ends_with("/0")
}

fn no_open_cidr(context: &PolicyContext<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    for resource in &context.stack.resources {
        let token = resource.schema.type_token;
        let properties: &[&str] = if SECURITY_GROUP_RULES.contains(&token) {
            &["cidr_ipv4", "cidr_ipv6"]
        } else if token == NACL_ENTRY && literal_str(resource, "rule_action") == Some("allow") {
            &["cidr_block", "ipv6_cidr_block"]
        } else {
            &[]
        };
        for property in properties {
            if let Some(cidr) = literal_str(resource, property).filter(|cidr| is_open(cidr)) {
                found.push(violation(
                    resource,
                    property,
                    cidr,
                    "opens the resource to every address on the internet",
                    "name the CIDR blocks that need access (the peer VPC's subnets)",
                ));
            }
        }
    }
    found
}

fn sg_allowed_ports(context: &PolicyContext<'_>) -> Vec<Violation> {
    let allowed = &context.settings.allowed_ports;
    let listed = allowed.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
    context
        .resources_of(INGRESS_RULE)
        .filter_map(|resource| {
            let protocol = literal_str(resource, "ip_protocol").unwrap_or_default();
            let (from, to) = (literal_i64(resource, "from_port"), literal_i64(resource, "to_port"));
            let opens_other = match (protocol, from, to) {
                ("-1" | "all", _, _) => true,
                (_, Some(from), Some(to)) => (from..=to)
                    .any(|port| u16::try_from(port).map_or(true, |port| !allowed.contains(&port))),
                _ => false,
            };
            opens_other.then(|| {
                let value = format!("{protocol} {}-{}", from.unwrap_or(0), to.unwrap_or(65535));
                violation(
                    resource,
                    "from_port",
                    value,
                    format!("opens ports other than the allowed ones ({listed})"),
                    "open only the allowed ports, one rule per port",
                )
            })
        })
        .collect()
}

/// The VPC a route table belongs to.
fn route_vpc<'a>(stack: &'a StackSpec, route: &Resource) -> Option<&'a Resource> {
    let table = referenced(stack, route, "route_table_id")?;
    referenced(stack, table, "vpc_id")
}

/// The peering connection a reference leads to, through an accepter if need be.
fn peering_connection<'a>(stack: &'a StackSpec, target: &'a Resource) -> Option<&'a Resource> {
    match target.schema.type_token {
        PEERING => Some(target),
        ACCEPTER | PEERING_OPTIONS => {
            let next = referenced(stack, target, "vpc_peering_connection_id")?;
            peering_connection(stack, next)
        }
        _ => None,
    }
}

fn peering_route_scope(context: &PolicyContext<'_>) -> Vec<Violation> {
    let stack = context.stack;
    context
        .resources_of(ROUTE)
        .filter_map(|route| {
            let target = referenced(stack, route, "vpc_peering_connection_id")?;
            let peering = peering_connection(stack, target)?;
            let destination: Ipv4Net =
                literal_str(route, "destination_cidr_block")?.parse().ok()?;
            let own = route_vpc(stack, route).map(|vpc| vpc.name.as_str());
            let peer = ["vpc_id", "peer_vpc_id"]
                .iter()
                .filter_map(|side| referenced(stack, peering, side))
                .find(|vpc| Some(vpc.name.as_str()) != own)?;
            let peer_cidr = vpc_cidr(peer)?;
            (!peer_cidr.contains(&destination)).then(|| {
                violation(
                    route,
                    "destination_cidr_block",
                    destination.to_string(),
                    format!(
                        "sends traffic through the peering beyond the peer VPC's CIDR {peer_cidr}"
                    ),
                    format!(
                        "route {peer_cidr} (or a part of it) through the peering, nothing wider"
                    ),
                )
            })
        })
        .collect()
}

fn flow_logs_on_every_vpc(context: &PolicyContext<'_>) -> Vec<Violation> {
    let logged: BTreeSet<&str> = context
        .resources_of(FLOW_LOG)
        .filter(|log| literal_str(log, "traffic_type") == Some("ALL"))
        .filter_map(|log| log.reference("vpc_id").map(|reference| reference.resource.as_str()))
        .collect();
    context
        .resources_of(VPC)
        .filter(|vpc| !logged.contains(vpc.name.as_str()))
        .map(|vpc| {
            violation(
                vpc,
                "flow_logs",
                "none",
                "has no flow log capturing ALL traffic",
                "add an aws:ec2/FlowLog with vpc_id = this VPC's id and traffic_type ALL",
            )
        })
        .collect()
}

fn peering_cidrs_disjoint(context: &PolicyContext<'_>) -> Vec<Violation> {
    context
        .resources_of(PEERING)
        .filter_map(|peering| {
            let requester = vpc_cidr(referenced(context.stack, peering, "vpc_id")?)?;
            let accepter = vpc_cidr(referenced(context.stack, peering, "peer_vpc_id")?)?;
            let overlap =
                requester.contains(&accepter.network()) || accepter.contains(&requester.network());
            overlap.then(|| {
                violation(
                    peering,
                    "peer_vpc_id",
                    format!("{requester} and {accepter}"),
                    "the peered VPCs' CIDR blocks overlap, so routes between them are ambiguous",
                    "give the two VPCs disjoint CIDR blocks",
                )
            })
        })
        .collect()
}

fn name_has_suffix(context: &PolicyContext<'_>) -> Vec<Violation> {
    let suffix = context.settings.environment_suffix.as_str();
    let mut found = Vec::new();
    for resource in &context.stack.resources {
        for property in resource.schema.name_properties() {
            let Some(input) = resource.inputs.get(property) else { continue };
            let name = static_value(input);
            let text = name.as_str().unwrap_or_default();
            if suffix.is_empty() || !text.contains(suffix) {
                found.push(violation(
                    resource,
                    property,
                    text,
                    format!("does not contain the environment suffix `{suffix}`"),
                    "build the name from the configured environment_suffix",
                ));
            }
        }
    }
    found
}

/// Every literal string inside an input.
fn literal_strings(input: &Input, out: &mut Vec<String>) {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(text) => out.push(text.clone()),
            Value::Array(items) => items.iter().for_each(|item| walk(item, out)),
            Value::Object(entries) => entries.iter().for_each(|(key, entry)| {
                out.push(key.clone());
                walk(entry, out);
            }),
            _ => {}
        }
    }
    match input {
        Input::Literal(value) => walk(value, out),
        Input::Ref(_) => {}
        Input::Concat(parts) | Input::List(parts) => {
            parts.iter().for_each(|part| literal_strings(part, out))
        }
        Input::Map(entries) => entries.iter().for_each(|(key, entry)| {
            out.push(key.clone());
            literal_strings(entry, out);
        }),
        Input::Json(inner) | Input::Secret(inner) => literal_strings(inner, out),
    }
}

/// The identifiers in `text` that configuration must supply: 12-digit numbers, region names
/// and environment names.
fn identifiers_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        let lower = word.to_ascii_lowercase();
        if (word.len() == 12 && word.bytes().all(|b| b.is_ascii_digit()))
            || ENVIRONMENT_NAMES.contains(&lower.as_str())
        {
            found.push(lower);
        }
    }
    for piece in text.split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')) {
        if let Some(region) = region_prefix(piece) {
            found.push(region.to_owned());
        }
    }
    found
}

/// The region a piece of text starts with (`us-east-1` of `us-east-1a`), if any.
fn region_prefix(piece: &str) -> Option<&str> {
    let mut parts = piece.splitn(3, '-');
    let (area, direction, rest) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let tail = &rest[digits..];
    let shaped = area.len() == 2
        && area.bytes().all(|b| b.is_ascii_lowercase())
        && direction.len() >= 4
        && direction.bytes().all(|b| b.is_ascii_lowercase())
        && digits > 0
        && tail.len() <= 1;
    shaped.then(|| &piece[..area.len() + direction.len() + 2 + digits])
}

fn no_hardcoded_identifiers(context: &PolicyContext<'_>) -> Vec<Violation> {
    let configured: BTreeSet<String> =
        context.settings.configured_values.iter().flat_map(|value| identifiers_in(value)).collect();
    let mut found = Vec::new();
    for resource in &context.stack.resources {
        for (property, input) in &resource.inputs {
            let mut texts = Vec::new();
            literal_strings(input, &mut texts);
            let stray: BTreeSet<String> = texts
                .iter()
                .flat_map(|text| identifiers_in(text))
                .filter(|identifier| !configured.contains(identifier))
                .collect();
            if !stray.is_empty() {
                found.push(violation(
                    resource,
                    property,
                    stray.into_iter().collect::<Vec<_>>().join(", "),
                    "holds an account id, region or environment name that configuration did not supply",
                    "read it from the stack config instead of writing it in the program",
                ));
            }
        }
    }
    found
}

fn destroyable(context: &PolicyContext<'_>) -> Vec<Violation> {
    let mut found: Vec<Violation> = context
        .stack
        .resources
        .iter()
        .filter(|resource| resource.options.protect)
        .map(|resource| {
            violation(
                resource,
                "protect",
                "true",
                "is protected, so destroy would fail",
                "remove `protect()`",
            )
        })
        .collect();
    found.extend(
        context
            .resources_of(BUCKET)
            .filter(|bucket| literal_bool(bucket, "force_destroy") != Some(true))
            .map(|bucket| {
                violation(
                    bucket,
                    "force_destroy",
                    literal_bool(bucket, "force_destroy")
                        .map_or("unset".into(), |flag| flag.to_string()),
                    "a bucket holding objects cannot be destroyed",
                    "set force_destroy(true)",
                )
            }),
    );
    found
}

fn kms_encryption(context: &PolicyContext<'_>) -> Vec<Violation> {
    [(BUCKET, "kms_key_arn"), (LOG_GROUP, "kms_key_id")]
        .into_iter()
        .flat_map(|(token, property)| {
            context
                .resources_of(token)
                .filter(move |resource| !resource.inputs.contains_key(property))
                .map(move |resource| {
                    violation(
                        resource,
                        property,
                        "unset",
                        "data at rest is not encrypted with a KMS key",
                        format!("set {property} to a KMS key of the stack"),
                    )
                })
        })
        .collect()
}

fn s3_public_access_blocked(context: &PolicyContext<'_>) -> Vec<Violation> {
    context
        .resources_of(BUCKET)
        .filter(|bucket| literal_bool(bucket, "block_public_access") != Some(true))
        .map(|bucket| {
            violation(
                bucket,
                "block_public_access",
                literal_bool(bucket, "block_public_access")
                    .map_or("unset".into(), |flag| flag.to_string()),
                "the bucket does not block public access",
                "set block_public_access(true)",
            )
        })
        .collect()
}

/// The statements of a policy document input, as far as they are known before apply.
fn statements(input: &Input) -> Vec<Value> {
    let document = match static_value(input) {
        Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::Null),
        other => other,
    };
    match document.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    }
}

/// Whether a statement field (a string or a list of strings) contains `wanted`.
fn field_contains(statement: &Value, field: &str, wanted: &[&str]) -> bool {
    match statement.get(field) {
        Some(Value::String(text)) => wanted.contains(&text.as_str()),
        Some(Value::Array(items)) => {
            items.iter().filter_map(Value::as_str).any(|text| wanted.contains(&text))
        }
        _ => false,
    }
}

fn iam_no_admin_wildcard(context: &PolicyContext<'_>) -> Vec<Violation> {
    let mut found: Vec<Violation> = context
        .resources_of(ROLE_POLICY)
        .filter(|policy| {
            policy.inputs.get("policy").is_some_and(|document| {
                statements(document).iter().any(|statement| {
                    statement.get("Effect").and_then(Value::as_str) == Some("Allow")
                        && field_contains(statement, "Action", &["*", "*:*"])
                        && field_contains(statement, "Resource", &["*"])
                })
            })
        })
        .map(|policy| {
            violation(
                policy,
                "policy",
                "Action \"*\" on Resource \"*\"",
                "grants every action on every resource",
                "list the actions and resources the role needs",
            )
        })
        .collect();
    found.extend(
        context
            .resources_of(ROLE_POLICY_ATTACHMENT)
            .filter(|attachment| {
                literal_str(attachment, "policy_arn")
                    .is_some_and(|arn| arn.ends_with("/AdministratorAccess"))
            })
            .map(|attachment| {
                violation(
                    attachment,
                    "policy_arn",
                    literal_str(attachment, "policy_arn").unwrap_or_default(),
                    "grants every action on every resource",
                    "attach a policy with the actions the role needs",
                )
            }),
    );
    found
}

/// The account ids a trust statement's AWS principals name, where they can be known.
fn principal_accounts(statement: &Value) -> Vec<String> {
    let principals: Vec<&str> =
        match statement.get("Principal").and_then(|principal| principal.get("AWS")) {
            Some(Value::String(text)) => vec![text.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
    principals
        .into_iter()
        .filter_map(|principal| {
            let account = principal
                .strip_prefix("arn:aws:iam::")
                .map_or(principal, |rest| rest.split(':').next().unwrap_or_default());
            (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
                .then(|| account.to_owned())
        })
        .collect()
}

fn iam_cross_account_external_id(context: &PolicyContext<'_>) -> Vec<Violation> {
    context
        .resources_of(ROLE)
        .filter(|role| {
            let own = context
                .stack
                .bindings
                .get(&role.binding)
                .map(|binding| binding.account_id.as_str());
            role.inputs.get("assume_role_policy").is_some_and(|document| {
                statements(document).iter().any(|statement| {
                    let foreign = principal_accounts(statement)
                        .iter()
                        .any(|account| Some(account.as_str()) != own);
                    let guarded = statement
                        .get("Condition")
                        .is_some_and(|condition| condition.to_string().contains("sts:ExternalId"));
                    foreign && !guarded
                })
            })
        })
        .map(|role| {
            violation(
                role,
                "assume_role_policy",
                "a principal of another account without sts:ExternalId",
                "another account can assume the role without an external id",
                "add Condition StringEquals sts:ExternalId with the external id secret",
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_found_in_names_arns_and_service_names() {
        assert_eq!(identifiers_in("logs-prod-x1"), ["prod"]);
        assert_eq!(identifiers_in("arn:aws:iam::123456789012:root"), ["123456789012"]);
        assert_eq!(identifiers_in("com.amazonaws.eu-west-2.s3"), ["eu-west-2"]);
        assert_eq!(identifiers_in("us-east-1a"), ["us-east-1"]);
        assert!(identifiers_in("2012-10-17 production-ready").contains(&"production".to_owned()));
        assert!(identifiers_in("cc-4410-trading sandbox x7k2").is_empty());
    }
}
