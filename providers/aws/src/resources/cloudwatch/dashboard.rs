//! `aws:cloudwatch/Dashboard`. Dashboards carry no tags: the name is the identity.

use async_trait::async_trait;
use aws_sdk_cloudwatch::operation::get_dashboard::GetDashboardOutput;
use cairn_dsl::aws::cloudwatch::DashboardArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use crate::errors::{AwsError, Result, done_when_gone, required, sdk_error, unless_gone};
use crate::resources::{Context, Handler, observed_inputs, outputs, recorded_id};

const TYPE: &str = "aws:cloudwatch/Dashboard";

/// Creates, updates, reads and deletes dashboards.
pub struct DashboardHandler;

#[async_trait]
impl Handler for DashboardHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        put_dashboard(cx).await
    }

    async fn update(&self, cx: &Context<'_>, _prior: &RecordedResource) -> Result<Outputs> {
        put_dashboard(cx).await
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let name = recorded_id(prior)?;
        let deleted = cx
            .clients
            .cloudwatch
            .delete_dashboards()
            .dashboard_names(name)
            .send()
            .await
            .map_err(|error| sdk_error(&format!("deleting dashboard {name}"), error));
        done_when_gone(deleted)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let Some(dashboard) = get_dashboard(cx, recorded_id(prior)?).await? else {
            return Ok(None);
        };
        let inputs = observed_inputs([
            ("dashboard_name", dashboard.dashboard_name().map(|name| json!(name))),
            ("dashboard_body", dashboard.dashboard_body().map(|body| json!(body))),
        ]);
        Ok(Some(Observed { inputs, outputs: dashboard_outputs(&dashboard)? }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: DashboardArgs = cx.args()?;
        let name = required(args.dashboard_name.as_deref(), TYPE, "dashboard_name")?;
        match get_dashboard(cx, name).await? {
            Some(dashboard) => dashboard_outputs(&dashboard).map(Some),
            None => Ok(None),
        }
    }
}

/// Creates the dashboard or replaces its body; returns its outputs.
async fn put_dashboard(cx: &Context<'_>) -> Result<Outputs> {
    let args: DashboardArgs = cx.args()?;
    let name = required(args.dashboard_name.as_deref(), TYPE, "dashboard_name")?;
    let body = required(args.dashboard_body.as_deref(), TYPE, "dashboard_body")?;
    let put = cx
        .clients
        .cloudwatch
        .put_dashboard()
        .dashboard_name(name)
        .dashboard_body(body)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("putting dashboard {name}"), error))?;
    for warning in put.dashboard_validation_messages() {
        tracing::warn!(
            "dashboard {name}: {} at {}",
            warning.message().unwrap_or_default(),
            warning.data_path().unwrap_or("the body")
        );
    }
    let dashboard = get_dashboard(cx, name)
        .await?
        .ok_or_else(|| AwsError::new(format!("dashboard {name} is missing right after its put")))?;
    dashboard_outputs(&dashboard)
}

/// The dashboard called `name`, or `None`.
async fn get_dashboard(cx: &Context<'_>, name: &str) -> Result<Option<GetDashboardOutput>> {
    let found = cx
        .clients
        .cloudwatch
        .get_dashboard()
        .dashboard_name(name)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading dashboard {name}"), error));
    unless_gone(found)
}

fn dashboard_outputs(dashboard: &GetDashboardOutput) -> Result<Outputs> {
    let name = dashboard
        .dashboard_name()
        .ok_or_else(|| AwsError::new("CloudWatch returned a dashboard without a name"))?;
    let arn = dashboard.dashboard_arn().ok_or_else(|| {
        AwsError::new(format!("CloudWatch returned dashboard {name} without an ARN"))
    })?;
    Ok(outputs([("id", json!(name)), ("arn", json!(arn))]))
}
