//! VPC peering: the connection, its acceptance and its options.

use cairn_engine::Schema;

use crate::resource;

resource! {
    /// A VPC peering connection, requested from the VPC of this binding.
    VpcPeeringConnection(VpcPeeringConnectionArgs, VpcPeeringConnectionOutputs) "aws:ec2/VpcPeeringConnection" {
        taggable: true,
        create_before_delete: false,
        validate: Schema::no_validation,
        inputs {
            /// The requester VPC.
            vpc_id: String [force_new],
            /// The accepter VPC.
            peer_vpc_id: String [force_new],
            /// The account that owns the accepter VPC.
            peer_owner_id: String [force_new],
            /// The accepter VPC's region.
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
