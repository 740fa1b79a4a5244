//! Gateway VPC endpoints (S3, DynamoDB).

use cairn_engine::{InputIssue, ResourceView};

use crate::checks::{json_object_text, one_of, required};
use crate::resource;

resource! {
    /// A gateway VPC endpoint: routes to S3 or DynamoDB through the VPC's route tables
    /// instead of the internet. AWS adds a route to the service's prefix list in every route
    /// table listed, and removes it when the table is removed or the endpoint deleted.
    VpcEndpoint(VpcEndpointArgs, VpcEndpointOutputs) "aws:ec2/VpcEndpoint" {
        taggable: true,
        create_before_delete: false,
        validate: validate_vpc_endpoint,
        inputs {
            /// The VPC.
            vpc_id: String [force_new],
            /// The service, for example `com.amazonaws.us-east-1.s3`.
            service_name: String [force_new],
            /// `Gateway` (the default and the only type cairn supports).
            vpc_endpoint_type: String [force_new],
            /// The route tables that route to the service through the endpoint.
            route_table_ids: Vec<String>,
            /// The endpoint policy (a JSON document); AWS allows everything without one.
            policy: String,
        }
        outputs {
            /// The endpoint id (`vpce-…`).
            id: String,
            /// The id of the service's prefix list (`pl-…`), for security group and NACL rules.
            prefix_list_id: String,
        }
    }
}

/// The services that have gateway endpoints.
const GATEWAY_SERVICES: [&str; 2] = ["s3", "dynamodb"];

fn validate_vpc_endpoint(view: &ResourceView<'_>) -> Vec<InputIssue> {
    let mut found = required(view, &["vpc_id", "service_name"]);
    found.extend(one_of(view, "vpc_endpoint_type", &["Gateway"]));
    found.extend(view.literal_str("service_name").and_then(check_service_name));
    found.extend(json_object_text(view, "policy"));
    found
}

fn check_service_name(name: &str) -> Option<InputIssue> {
    let service = name.strip_prefix("com.amazonaws.").and_then(|rest| rest.rsplit_once('.'));
    let gateway = service
        .is_some_and(|(region, service)| !region.is_empty() && GATEWAY_SERVICES.contains(&service));
    (!gateway).then(|| {
        InputIssue::new(
            "service_name",
            format!("`{name}` is not a service with gateway endpoints"),
            "use com.amazonaws.<region>.s3 or com.amazonaws.<region>.dynamodb",
        )
    })
}
