//! Security groups and their rules, network ACLs and their entries.

use cairn_engine::Schema;

use crate::resource;

resource! {
    /// A security group. Its rules are separate resources.
    SecurityGroup(SecurityGroupArgs, SecurityGroupOutputs) "aws:ec2/SecurityGroup" {
        taggable: true,
        create_before_delete: false,
        validate: Schema::no_validation,
        inputs {
            /// The group's name, unique in its VPC.
            name: String [force_new],
            /// What it is for.
            description: String [force_new],
            /// The VPC it belongs to.
            vpc_id: String [force_new],
            /// Remove the allow-all egress rule AWS adds to every new group.
            revoke_default_egress: bool,
        }
        outputs {
            /// The group id (`sg-…`).
            id: String,
            /// The group's ARN.
            arn: String,
        }
    }
}
