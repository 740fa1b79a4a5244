//! `aws:ec2/FlowLog`.

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    FlowLogsResourceType, LogDestinationType, ResourceType, TrafficType, UnsuccessfulItem,
};
use cairn_dsl::aws::ec2::FlowLogArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use super::{ownership_filter, retag, tag_pairs, tag_specification};
use crate::errors::{
    AwsError, CONSISTENCY_RETRIES, Result, answered, iam_not_yet_propagated, int32,
    referenced_not_yet_visible, required, retry_consistency, sdk_error, unless_gone,
};
use crate::resources::{Context, Handler, id_outputs, observed_inputs, observed_tags, recorded_id};

/// The handler of a type token of this module.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    match type_token {
        "aws:ec2/FlowLog" => Some(&FlowLogHandler),
        _ => None,
    }
}

const TYPE: &str = "aws:ec2/FlowLog";

/// Creates, reads and deletes VPC flow logs (only their tags change in place).
pub struct FlowLogHandler;

#[async_trait]
impl Handler for FlowLogHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: FlowLogArgs = cx.args()?;
        let vpc = required(args.vpc_id.as_deref(), TYPE, "vpc_id")?;
        let traffic = required(args.traffic_type.as_deref(), TYPE, "traffic_type")?;
        let destination_type =
            required(args.log_destination_type.as_deref(), TYPE, "log_destination_type")?;
        let destination = required(args.log_destination.as_deref(), TYPE, "log_destination")?;
        let interval = args
            .max_aggregation_interval
            .map(|seconds| int32(seconds, TYPE, "max_aggregation_interval"))
            .transpose()?;
        // The VPC, or a delivery role made a moment ago, may not be visible yet.
        let not_yet: fn(&str) -> bool = match args.deliver_logs_permission_arn {
            Some(_) => iam_not_yet_propagated,
            None => referenced_not_yet_visible,
        };
        let created =
            retry_consistency("creating the flow log", CONSISTENCY_RETRIES, not_yet, || async {
                cx.clients
                    .ec2
                    .create_flow_logs()
                    .resource_type(FlowLogsResourceType::Vpc)
                    .resource_ids(vpc)
                    .traffic_type(TrafficType::from(traffic))
                    .log_destination_type(LogDestinationType::from(destination_type))
                    .log_destination(destination)
                    .set_max_aggregation_interval(interval)
                    .set_log_format(args.log_format.clone())
                    .set_deliver_logs_permission_arn(args.deliver_logs_permission_arn.clone())
                    .tag_specifications(tag_specification(cx, ResourceType::VpcFlowLog, &args.tags))
                    .send()
                    .await
                    .map_err(|error| sdk_error(&format!("creating a flow log for {vpc}"), error))
            })
            .await?;
        // AWS (and moto) answer a flow log it cannot create with HTTP 200 and an
        // `Unsuccessful` entry instead of an error: surface it as one.
        if let Some(error) = created.unsuccessful().first().map(unsuccessful) {
            return Err(AwsError {
                message: format!(
                    "creating a flow log for {vpc} to {destination}: {}",
                    error.message
                ),
                ..error
            });
        }
        let id = answered(created.flow_log_ids().first(), "the new flow log's id")?;
        Ok(id_outputs(id))
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        retag(cx, prior).await
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let id = recorded_id(prior)?;
        let deleted = cx
            .clients
            .ec2
            .delete_flow_logs()
            .flow_log_ids(id)
            .send()
            .await
            .map_err(|error| sdk_error(&format!("deleting flow log {id}"), error));
        // An unknown id: moto answers InvalidFlowLogId.NotFound, AWS an `Unsuccessful` entry.
        let Some(deleted) = unless_gone(deleted)? else { return Ok(()) };
        match deleted.unsuccessful().first().map(unsuccessful) {
            Some(error) if !error.is_not_found() => Err(AwsError {
                message: format!("deleting flow log {id}: {}", error.message),
                ..error
            }),
            _ => Ok(()),
        }
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let id = recorded_id(prior)?;
        let found = cx
            .clients
            .ec2
            .describe_flow_logs()
            .flow_log_ids(id)
            .send()
            .await
            .map_err(|error| sdk_error(&format!("reading flow log {id}"), error));
        let Some(log) = unless_gone(found)?.and_then(|found| found.flow_logs().first().cloned())
        else {
            return Ok(None);
        };
        let inputs = observed_inputs([
            ("vpc_id", log.resource_id().map(|vpc| json!(vpc))),
            ("traffic_type", log.traffic_type().map(|traffic| json!(traffic.as_str()))),
            ("log_destination_type", log.log_destination_type().map(|kind| json!(kind.as_str()))),
            ("log_destination", log.log_destination().map(|arn| json!(arn))),
            ("max_aggregation_interval", log.max_aggregation_interval().map(|s| json!(s))),
            ("log_format", log.log_format().map(|format| json!(format))),
            (
                "deliver_logs_permission_arn",
                log.deliver_logs_permission_arn().map(|arn| json!(arn)),
            ),
            ("tags", observed_tags(tag_pairs(log.tags()))),
        ]);
        Ok(Some(Observed { inputs, outputs: id_outputs(id) }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let found =
            cx.clients
                .ec2
                .describe_flow_logs()
                .filter(ownership_filter(cx))
                .send()
                .await
                .map_err(|error| sdk_error("looking for the flow log by ownership tag", error))?;
        Ok(found.flow_logs().first().and_then(|log| log.flow_log_id()).map(id_outputs))
    }
}

/// An `Unsuccessful` entry as an error, its code kept.
fn unsuccessful(item: &UnsuccessfulItem) -> AwsError {
    let code = item.error().and_then(|error| error.code()).unwrap_or_default();
    let message = item.error().and_then(|error| error.message()).unwrap_or("no reason given");
    AwsError::coded(code, format!("{code}: {message}"))
}
