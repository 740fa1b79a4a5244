//! Security groups and rules, network ACLs, entries and associations.

mod acls;
mod groups;
mod rules;

use crate::resources::Handler;

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
