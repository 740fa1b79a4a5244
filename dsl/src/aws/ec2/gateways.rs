//! Internet gateways, Elastic IPs and NAT gateways.

use cairn_engine::{InputIssue, ResourceView};

use crate::checks::{one_of, required};
use crate::resource;

resource! {
    /// An internet gateway, attached to one VPC when created and detached before deletion.
    InternetGateway(InternetGatewayArgs, InternetGatewayOutputs) "aws:ec2/InternetGateway" {
        taggable: true,
        create_before_delete: true,
        validate: validate_internet_gateway,
        inputs {
            /// The VPC it is attached to; another VPC means another gateway.
            vpc_id: String [force_new],
        }
        outputs {
            /// The internet gateway id (`igw-…`).
            id: String,
        }
    }
}

fn validate_internet_gateway(view: &ResourceView<'_>) -> Vec<InputIssue> {
    required(view, &["vpc_id"])
}

resource! {
    /// An Elastic IP address for use in a VPC (a NAT gateway's public address).
    Eip(EipArgs, EipOutputs) "aws:ec2/Eip" {
        taggable: true,
        create_before_delete: true,
        validate: validate_eip,
        inputs {
            /// `vpc` (the default; EC2-Classic addresses no longer exist).
            domain: String [force_new],
        }
        outputs {
            /// The allocation id (`eipalloc-…`).
            id: String,
            /// The public IPv4 address.
            public_ip: String,
        }
    }
}

fn validate_eip(view: &ResourceView<'_>) -> Vec<InputIssue> {
    one_of(view, "domain", &["vpc"]).into_iter().collect()
}

resource! {
    /// A NAT gateway in a subnet. A public one needs an Elastic IP and, in AWS, an internet
    /// gateway attached to the VPC first (make it depend on the gateway). Created and deleted
    /// asynchronously: cairn waits until it is `available`, or `deleted`, up to 10 minutes.
    /// Its Elastic IP would collide with its replacement's, so a replacement deletes first.
    NatGateway(NatGatewayArgs, NatGatewayOutputs) "aws:ec2/NatGateway" {
        taggable: true,
        create_before_delete: false,
        validate: validate_nat_gateway,
        inputs {
            /// The subnet it lives in (a public subnet, for a public NAT gateway).
            subnet_id: String [force_new],
            /// The allocation id of its Elastic IP; public NAT gateways only.
            allocation_id: String [force_new],
            /// `public` (the default) or `private`.
            connectivity_type: String [force_new],
        }
        outputs {
            /// The NAT gateway id (`nat-…`).
            id: String,
        }
    }
}

/// The connectivity types of a NAT gateway.
const CONNECTIVITY_TYPES: [&str; 2] = ["public", "private"];

fn validate_nat_gateway(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(view, &["subnet_id"]);
    found.extend(one_of(view, "connectivity_type", &CONNECTIVITY_TYPES));
    let private = view.literal_str("connectivity_type") == Some("private");
    let has_address = view.input("allocation_id").is_some();
    if private && has_address {
        found.push(InputIssue::new(
            "allocation_id",
            "a private NAT gateway has no Elastic IP",
            "remove allocation_id, or make the NAT gateway public",
        ));
    }
    if !private && !has_address {
        found.push(InputIssue::new(
            "allocation_id",
            "a public NAT gateway needs an Elastic IP",
            "set allocation_id to an Eip's id, or set connectivity_type to `private`",
        ));
    }
    found
}
