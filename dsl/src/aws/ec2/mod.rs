//! Amazon EC2 networking resources.

mod endpoints;
mod flow_logs;
mod gateways;
mod peering;
mod routing;
mod security;
mod vpc;

pub use endpoints::*;
pub use flow_logs::*;
pub use gateways::*;
pub use peering::*;
pub use routing::*;
pub use security::*;
pub use vpc::*;

use std::collections::BTreeMap;

use cairn_engine::{Input, Resource, StackSpec};
use serde_json::Value;

/// Fills in what the rule sets of network ACLs and route tables derive from the whole
/// stack: each ACL's `declared_entries` and each table's `declared_routes`, from the entry and
/// route resources that name it, so that their reads can tell those from ones made by hand.
pub(crate) fn declare_members(spec: &mut StackSpec) {
    let acl = (NetworkAcl::SCHEMA.type_token, "declared_entries");
    let entry = (NetworkAclEntry::SCHEMA.type_token, "network_acl_id");
    declare_members_of(spec, acl, entry, security::declared_entry_key);
    let table = (RouteTable::SCHEMA.type_token, "declared_routes");
    let route = (Route::SCHEMA.type_token, "route_table_id");
    declare_members_of(spec, table, route, routing::declared_route_key);
}

/// Sets `property` of every resource of type `parent` to the sorted keys of the resources of
/// type `member` whose input `via` refers to it.
fn declare_members_of(
    spec: &mut StackSpec,
    (parent, property): (&str, &str),
    (member, via): (&str, &str),
    key: fn(&Resource) -> Option<String>,
) {
    let mut declared: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for resource in spec.resources.iter().filter(|r| r.schema.type_token == member) {
        let Some(Input::Ref(owner)) = resource.inputs.get(via) else { continue };
        if let Some(key) = key(resource) {
            declared.entry(owner.resource.clone()).or_default().push(key);
        }
    }
    for owner in spec.resources.iter_mut().filter(|r| r.schema.type_token == parent) {
        let mut keys = declared.remove(&owner.name).unwrap_or_default();
        keys.sort();
        owner.inputs.insert(property.to_owned(), Input::Literal(Value::from(keys)));
    }
}
