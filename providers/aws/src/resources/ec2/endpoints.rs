//! `aws:ec2/VpcEndpoint` (gateway endpoints): AWS routes the service's prefix list through
//! the endpoint in every route table the endpoint lists.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::types::{ResourceType, VpcEndpoint, VpcEndpointType};
use cairn_dsl::aws::ec2::VpcEndpointArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::{Value, json};

use super::{filter, ownership_filter, tag_pairs, tag_specification, update_tags};
use crate::errors::{
    AwsError, CONSISTENCY_RETRIES, Patience, Result, answered, done_when_gone, is_not_found_code,
    referenced_not_yet_visible, required, retry_consistency, sdk_error, unless_gone, wait_until,
};
use crate::resources::{
    Context, Handler, observed_inputs, observed_tags, outputs, prior_outputs, recorded_id,
};

const ENDPOINT: &str = "aws:ec2/VpcEndpoint";

/// The handler of a type token of this module.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    (type_token == ENDPOINT).then_some(&VpcEndpointHandler as &'static dyn Handler)
}

/// Gateway endpoints become available, and go away, within seconds to a minute.
const ENDPOINT_PATIENCE: Patience =
    Patience::up_to(Duration::from_secs(600), Duration::from_secs(5));

/// The policy document an update sets: the program's or, when it has none, the allow-all
/// document AWS gives an endpoint created without a policy. Writing that default out has the
/// same effect on AWS as ResetPolicy, which moto 5.2.5 ignores.
fn policy_document(policy: &Option<String>) -> String {
    policy.clone().unwrap_or_else(|| default_policy().to_string())
}

/// The policy AWS gives an endpoint created without one.
fn default_policy() -> Value {
    json!({
        "Version": "2008-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
    })
}

/// Creates, updates, reads and deletes gateway VPC endpoints.
pub struct VpcEndpointHandler;

#[async_trait]
impl Handler for VpcEndpointHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: VpcEndpointArgs = cx.args()?;
        let vpc = required(args.vpc_id.as_deref(), ENDPOINT, "vpc_id")?;
        let service = required(args.service_name.as_deref(), ENDPOINT, "service_name")?;
        let kind = args.vpc_endpoint_type.as_deref().unwrap_or("Gateway");
        // The VPC and the route tables may have been created a moment ago.
        let created = retry_consistency(
            "creating the VPC endpoint",
            CONSISTENCY_RETRIES,
            referenced_not_yet_visible,
            || async {
                cx.clients
                    .ec2
                    .create_vpc_endpoint()
                    .vpc_id(vpc)
                    .service_name(service)
                    .vpc_endpoint_type(VpcEndpointType::from(kind))
                    .set_route_table_ids(args.route_table_ids.clone())
                    .set_policy_document(args.policy.clone())
                    .tag_specifications(tag_specification(
                        cx,
                        ResourceType::VpcEndpoint,
                        &args.tags,
                    ))
                    .send()
                    .await
                    .map_err(|error| {
                        sdk_error(&format!("creating an endpoint for {service} in {vpc}"), error)
                    })
            },
        )
        .await?;
        let endpoint = answered(created.vpc_endpoint(), "the new endpoint")?;
        let id = answered(endpoint.vpc_endpoint_id(), "the new endpoint's id")?;
        wait_until("the VPC endpoint to be available", ENDPOINT_PATIENCE, || async {
            Ok(endpoint_state(cx, id).await?.as_deref() == Some("available"))
        })
        .await?;
        endpoint_outputs(cx, id, service).await
    }

    /// Attaches and detaches route tables, and sets the policy (AWS's default when unset).
    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        let args: VpcEndpointArgs = cx.args()?;
        let old: VpcEndpointArgs = cx.prior_args(prior)?;
        let id = recorded_id(prior)?;
        let endpoint = describe_endpoint(cx, id).await?.ok_or_else(|| {
            AwsError::new(format!(
                "VPC endpoint {id} no longer exists: run apply again to recreate it"
            ))
        })?;
        let held: BTreeSet<&str> = endpoint.route_table_ids().iter().map(String::as_str).collect();
        let wanted: BTreeSet<&str> =
            args.route_table_ids.iter().flatten().map(String::as_str).collect();
        let change = EndpointChange {
            attach: wanted.difference(&held).map(|table| (*table).to_owned()).collect(),
            detach: held.difference(&wanted).map(|table| (*table).to_owned()).collect(),
            policy: (args.policy != old.policy).then(|| policy_document(&args.policy)),
        };
        modify_endpoint(cx, id, change).await?;
        update_tags(&cx.clients.ec2, id, &old.tags, &args.tags).await?;
        prior_outputs(prior)
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let id = recorded_id(prior)?;
        let Some(endpoint) = describe_endpoint(cx, id).await? else { return Ok(()) };
        match delete_endpoint(cx, id).await {
            // AWS deletes the endpoint's routes with it. moto 5.2.5 fails on a route table
            // attached by ModifyVpcEndpoint (where it never added the route): then detach the
            // route tables (on AWS that removes the same routes) and delete again.
            Err(error) if error.code == "InvalidRoute.NotFound" => {
                let detach = endpoint.route_table_ids().to_vec();
                let change = EndpointChange { attach: Vec::new(), detach, policy: None };
                modify_endpoint(cx, id, change).await?;
                delete_endpoint(cx, id).await?;
            }
            other => done_when_gone(other)?,
        }
        wait_until("the VPC endpoint to be deleted", ENDPOINT_PATIENCE, || async {
            Ok(endpoint_state(cx, id).await?.is_none())
        })
        .await
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let id = recorded_id(prior)?;
        let recorded: VpcEndpointArgs = cx.prior_args(prior)?;
        let Some(endpoint) = describe_endpoint(cx, id).await? else { return Ok(None) };
        let service = answered(endpoint.service_name(), "the endpoint's service name")?;
        let inputs = observed_inputs([
            ("vpc_id", endpoint.vpc_id().map(|vpc| json!(vpc))),
            ("service_name", Some(json!(service))),
            ("vpc_endpoint_type", endpoint.vpc_endpoint_type().map(|kind| json!(kind.as_str()))),
            (
                "route_table_ids",
                Some(observed_route_tables(endpoint.route_table_ids(), &recorded.route_table_ids)),
            ),
            ("policy", observed_policy(endpoint.policy_document(), recorded.policy.as_deref())),
            ("tags", observed_tags(tag_pairs(endpoint.tags()))),
        ]);
        Ok(Some(Observed { inputs, outputs: endpoint_outputs(cx, id, service).await? }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let found = cx
            .clients
            .ec2
            .describe_vpc_endpoints()
            .filters(ownership_filter(cx))
            .send()
            .await
            .map_err(|error| sdk_error("looking for the VPC endpoint by ownership tag", error))?;
        let Some(endpoint) = found.vpc_endpoints().iter().find(|endpoint| is_live(endpoint)) else {
            return Ok(None);
        };
        let id = answered(endpoint.vpc_endpoint_id(), "the endpoint's id")?;
        let service = answered(endpoint.service_name(), "the endpoint's service name")?;
        endpoint_outputs(cx, id, service).await.map(Some)
    }
}

/// What an update changes on an endpoint.
struct EndpointChange {
    /// Route tables to attach.
    attach: Vec<String>,
    /// Route tables to detach.
    detach: Vec<String>,
    /// The new policy document, when it changes.
    policy: Option<String>,
}

/// Applies `change` to endpoint `id` in one call, or none when nothing changes.
async fn modify_endpoint(cx: &Context<'_>, id: &str, change: EndpointChange) -> Result<()> {
    if change.attach.is_empty() && change.detach.is_empty() && change.policy.is_none() {
        return Ok(());
    }
    let non_empty = |tables: &Vec<String>| (!tables.is_empty()).then(|| tables.clone());
    // Newly declared route tables may have been created a moment ago.
    retry_consistency(
        "modifying the VPC endpoint",
        CONSISTENCY_RETRIES,
        referenced_not_yet_visible,
        || async {
            cx.clients
                .ec2
                .modify_vpc_endpoint()
                .vpc_endpoint_id(id)
                .set_add_route_table_ids(non_empty(&change.attach))
                .set_remove_route_table_ids(non_empty(&change.detach))
                .set_policy_document(change.policy.clone())
                .send()
                .await
                .map_err(|error| sdk_error(&format!("modifying VPC endpoint {id}"), error))
        },
    )
    .await?;
    Ok(())
}

/// Deletes endpoint `id`. AWS reports a failure per endpoint in the answer, not as an error:
/// one that says the endpoint is gone counts as done.
async fn delete_endpoint(cx: &Context<'_>, id: &str) -> Result<()> {
    let answer = cx
        .clients
        .ec2
        .delete_vpc_endpoints()
        .vpc_endpoint_ids(id)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("deleting VPC endpoint {id}"), error))?;
    let failure = answer
        .unsuccessful()
        .iter()
        .filter_map(|item| item.error())
        .find(|failure| !is_not_found_code(failure.code().unwrap_or_default()));
    match failure {
        Some(failure) => Err(AwsError::coded(
            failure.code().unwrap_or_default(),
            format!(
                "deleting VPC endpoint {id}: {}",
                failure.message().unwrap_or("AWS gave no reason")
            ),
        )),
        None => Ok(()),
    }
}

/// The endpoint `id`, or `None` when it does not exist or is deleted (AWS lists deleted
/// endpoints for a while).
async fn describe_endpoint(cx: &Context<'_>, id: &str) -> Result<Option<VpcEndpoint>> {
    let found = cx
        .clients
        .ec2
        .describe_vpc_endpoints()
        .vpc_endpoint_ids(id)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading VPC endpoint {id}"), error));
    let endpoint = unless_gone(found)?.and_then(|found| found.vpc_endpoints().first().cloned());
    Ok(endpoint.filter(is_live))
}

/// The endpoint's state in lower case, `None` when it is gone. The emulator's lower-case
/// `available` is not one of the SDK's (capitalised) variants, so states compare as text.
async fn endpoint_state(cx: &Context<'_>, id: &str) -> Result<Option<String>> {
    let endpoint = describe_endpoint(cx, id).await?;
    Ok(endpoint
        .and_then(|endpoint| endpoint.state().map(|state| state.as_str().to_ascii_lowercase())))
}

/// Whether the endpoint exists and is not deleted.
fn is_live(endpoint: &VpcEndpoint) -> bool {
    endpoint.state().is_none_or(|state| !state.as_str().eq_ignore_ascii_case("deleted"))
}

/// The endpoint's outputs: its id and its service's prefix list.
async fn endpoint_outputs(cx: &Context<'_>, id: &str, service: &str) -> Result<Outputs> {
    let found = cx
        .clients
        .ec2
        .describe_prefix_lists()
        .filters(filter("prefix-list-name", service))
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading the prefix list of {service}"), error))?;
    let prefix_list = found.prefix_lists().first().and_then(|list| list.prefix_list_id());
    let prefix_list = answered(prefix_list, &format!("a prefix list for {service}"))?;
    Ok(outputs([("id", json!(id)), ("prefix_list_id", json!(prefix_list))]))
}

/// The route tables AWS lists, in the recorded order when they are the same ones.
fn observed_route_tables(held: &[String], recorded: &Option<Vec<String>>) -> Value {
    let as_set = |tables: &[String]| tables.iter().cloned().collect::<BTreeSet<_>>();
    match recorded {
        Some(recorded) if as_set(recorded) == as_set(held) => json!(recorded),
        _ => json!(held),
    }
}

/// The policy as the program would write it: the recorded text when AWS holds the same
/// document (AWS reformats it), nothing when AWS holds its default and the program set none.
fn observed_policy(held: Option<&str>, recorded: Option<&str>) -> Option<Value> {
    let held = held?;
    let document = serde_json::from_str::<Value>(held).ok();
    match recorded {
        Some(recorded) if document == serde_json::from_str::<Value>(recorded).ok() => {
            Some(json!(recorded))
        }
        None if document == Some(default_policy()) => None,
        _ => Some(json!(held)),
    }
}
