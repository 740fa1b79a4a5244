//! Security groups and rules, network ACLs, entries and associations; and the small helpers
//! the peering and flow log handlers share with them.

mod acls;
mod groups;
mod rules;

use cairn_engine::Outputs;
use serde_json::json;

use crate::errors::{AwsError, Result, missing};
use crate::resources::{Handler, outputs};

/// The handler of a type token of this module.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    match type_token {
        "aws:ec2/SecurityGroup" => Some(&groups::SecurityGroupHandler),
        "aws:ec2/SecurityGroupIngressRule" => Some(&rules::INGRESS),
        "aws:ec2/SecurityGroupEgressRule" => Some(&rules::EGRESS),
        "aws:ec2/NetworkAcl" => Some(&acls::NetworkAclHandler),
        "aws:ec2/NetworkAclEntry" => Some(&acls::NetworkAclEntryHandler),
        "aws:ec2/SubnetNetworkAclAssociation" => Some(&acls::AssociationHandler),
        _ => None,
    }
}

/// `Ok(None)` for an error that says the thing is not there, so that reads and deletes
/// treat a missing resource as gone.
pub(super) fn unless_not_found<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
    }
}

/// The value of a required input, or the error that names it.
pub(super) fn need<'a>(
    type_token: &str,
    property: &str,
    value: &'a Option<String>,
) -> Result<&'a str> {
    value.as_deref().ok_or_else(|| missing(type_token, property))
}

/// An integer input as the `i32` the SDK takes.
pub(super) fn int32(property: &str, value: i64) -> Result<i32> {
    i32::try_from(value)
        .map_err(|_| AwsError::new(format!("`{property}` is {value}, more than AWS takes")))
}

/// A field AWS left out of an answer, as an error.
pub(super) fn absent(what: &str) -> AwsError {
    AwsError::new(format!("AWS answered without {what}: the API may have changed; report this"))
}

/// Outputs made of an id alone.
pub(super) fn id_outputs(id: &str) -> Outputs {
    outputs([("id", json!(id))])
}
