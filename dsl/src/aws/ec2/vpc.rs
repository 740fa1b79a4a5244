//! VPCs.

use cairn_engine::{InputIssue, ResourceView};

use crate::checks::{check_prefix, issues, literal_cidr};
use crate::resource;

resource! {
    /// A VPC: an isolated network with one IPv4 CIDR block.
    Vpc(VpcArgs, VpcOutputs) "aws:ec2/Vpc" {
        taggable: true,
        create_before_delete: true,
        validate: validate_vpc,
        inputs {
            /// The VPC's IPv4 CIDR block, /16 to /28.
            cidr_block: String [force_new],
            /// Whether the Amazon-provided DNS server resolves names in the VPC.
            enable_dns_support: bool,
            /// Whether instances get public DNS host names.
            enable_dns_hostnames: bool,
        }
        outputs {
            /// The VPC id (`vpc-…`).
            id: String,
            /// The VPC's ARN.
            arn: String,
            /// The account that owns it.
            owner_id: String,
            /// The id of its main route table.
            main_route_table_id: String,
        }
    }
}

fn validate_vpc(view: &ResourceView<'_>) -> Vec<InputIssue> {
    match literal_cidr(view, "cidr_block") {
        Ok(Some(network)) => issues([check_prefix("cidr_block", network)]),
        Ok(None) => Vec::new(),
        Err(issue) => vec![issue],
    }
}
