//! VPC peering: the connection, its acceptance and its options.
//!
//! A cross-account peering takes three declarations: the [`VpcPeeringConnection`] in the
//! requester's binding, the [`VpcPeeringConnectionAccepter`] in the accepter's binding (given
//! the connection's id, so it runs after the request), and one
//! [`VpcPeeringConnectionOptions`] per side, given the *accepter's* id so they run once the
//! connection is active (AWS changes options only on active connections).

use cairn_engine::{InputIssue, ResourceView};

use crate::checks::{one_of, required};
use crate::resource;

resource! {
    /// A VPC peering connection, requested from the VPC of this binding. The accepter side
    /// accepts it with a [`VpcPeeringConnectionAccepter`].
    VpcPeeringConnection(VpcPeeringConnectionArgs, VpcPeeringConnectionOutputs) "aws:ec2/VpcPeeringConnection" {
        taggable: true,
        create_before_delete: false,
        validate: validate_connection,
        inputs {
            /// The requester VPC, in this binding.
            vpc_id: String [force_new],
            /// The accepter VPC.
            peer_vpc_id: String [force_new],
            /// The account that owns the accepter VPC (default: this binding's account).
            peer_owner_id: String [force_new],
            /// The accepter VPC's region (default: this binding's region).
            peer_region: String [force_new],
        }
        outputs {
            /// The peering connection id (`pcx-…`).
            id: String,
            /// Its status as last read (`pending-acceptance`, `active`).
            status: String,
        }
    }
}

fn validate_connection(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(view, &["vpc_id", "peer_vpc_id"]);
    if let (Some(own), Some(peer)) = (view.literal_str("vpc_id"), view.literal_str("peer_vpc_id"))
        && own == peer
    {
        found.push(InputIssue::new(
            "peer_vpc_id",
            format!("`{peer}` is the requester VPC itself"),
            "peer with another VPC",
        ));
    }
    if let Some(owner) = view.literal_str("peer_owner_id")
        && (owner.len() != 12 || !owner.bytes().all(|byte| byte.is_ascii_digit()))
    {
        found.push(InputIssue::new(
            "peer_owner_id",
            format!("`{owner}` is not an AWS account id"),
            "use the 12-digit id of the account that owns the peer VPC",
        ));
    }
    found
}

resource! {
    /// Accepts a VPC peering connection from the accepter's binding and waits until it is
    /// active. Deleting it only forgets it: the requester's delete removes the connection.
    VpcPeeringConnectionAccepter(VpcPeeringConnectionAccepterArgs, VpcPeeringConnectionAccepterOutputs) "aws:ec2/VpcPeeringConnectionAccepter" {
        taggable: true,
        create_before_delete: false,
        validate: validate_accepter,
        inputs {
            /// The peering connection to accept.
            vpc_peering_connection_id: String [force_new],
            /// A role in the accepter's account to make the accept call with (otherwise the
            /// binding's own credentials make it).
            accepter_role_arn: String,
            /// The external id the accepter role's trust policy requires (pass it as a
            /// secret).
            external_id: String,
        }
        outputs {
            /// The peering connection id (`pcx-…`).
            id: String,
            /// Its status once accepted (`active`).
            status: String,
        }
    }
}

fn validate_accepter(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(view, &["vpc_peering_connection_id"]);
    if view.input("external_id").is_some() && view.input("accepter_role_arn").is_none() {
        found.push(InputIssue::new(
            "external_id",
            "an external id is set but no role to assume with it",
            "set `accepter_role_arn`, or drop `external_id`",
        ));
    }
    found
}

resource! {
    /// The options of one side of an active VPC peering connection, set from that side's
    /// binding. Deleting it turns the options off again.
    VpcPeeringConnectionOptions(VpcPeeringConnectionOptionsArgs, VpcPeeringConnectionOptionsOutputs) "aws:ec2/VpcPeeringConnectionOptions" {
        taggable: false,
        create_before_delete: false,
        validate: validate_options,
        inputs {
            /// The peering connection (pass the accepter's id, so the connection is active).
            vpc_peering_connection_id: String [force_new],
            /// `requester` or `accepter`: the side this binding is on.
            side: String [force_new],
            /// Whether this side's VPC resolves the peer VPC's public DNS host names to
            /// private addresses.
            allow_dns_resolution_from_remote_vpc: bool,
        }
        outputs {
            /// `<peering connection id>:<side>`.
            id: String,
        }
    }
}

fn validate_options(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(
        view,
        &["vpc_peering_connection_id", "side", "allow_dns_resolution_from_remote_vpc"],
    );
    found.extend(one_of(view, "side", &["requester", "accepter"]));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::faults;
    use crate::secret;

    #[test]
    fn connections_peer_with_another_vpc_of_a_real_account() {
        let pcx = || VpcPeeringConnection::new("pcx").vpc_id("vpc-1");
        assert!(faults(pcx().peer_vpc_id("vpc-2").peer_owner_id("123456789012")).is_empty());
        assert_eq!(faults(pcx().peer_vpc_id("vpc-1")), ["peer_vpc_id"]);
        assert_eq!(faults(pcx().peer_vpc_id("vpc-2").peer_owner_id("acct-b")), ["peer_owner_id"]);
    }

    #[test]
    fn an_external_id_needs_a_role_and_options_a_side() {
        let accepter =
            VpcPeeringConnectionAccepter::new("accepter").vpc_peering_connection_id("pcx-1");
        assert_eq!(faults(accepter.clone().external_id(secret("x"))), ["external_id"]);
        assert!(faults(accepter.accepter_role_arn("arn").external_id(secret("x"))).is_empty());
        let options = VpcPeeringConnectionOptions::new("options")
            .vpc_peering_connection_id("pcx-1")
            .allow_dns_resolution_from_remote_vpc(true);
        assert!(faults(options.clone().side("accepter")).is_empty());
        assert_eq!(faults(options.side("both")), ["side"]);
    }
}
