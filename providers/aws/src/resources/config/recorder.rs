//! `aws:config/ConfigurationRecorder` and `aws:config/RecorderStatus`.

use async_trait::async_trait;
use aws_sdk_config::types::{ConfigurationRecorder, ConfigurationRecorderStatus, RecordingGroup};
use cairn_dsl::aws::config::{ConfigurationRecorderArgs, RecorderStatusArgs};
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use super::config_not_yet_ready;
use crate::errors::{
    CONSISTENCY_RETRIES, Result, done_when_gone, required, retry_consistency, sdk_error,
    unless_gone,
};
use crate::resources::{Context, Handler, id_outputs, observed_inputs, recorded_id};

const RECORDER: &str = "aws:config/ConfigurationRecorder";
const STATUS: &str = "aws:config/RecorderStatus";

/// Creates, updates, reads and deletes configuration recorders.
pub struct RecorderHandler;

#[async_trait]
impl Handler for RecorderHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        put_recorder(cx).await
    }

    async fn update(&self, cx: &Context<'_>, _prior: &RecordedResource) -> Result<Outputs> {
        put_recorder(cx).await
    }

    /// Stops the recorder, then deletes it.
    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let name = recorded_id(prior)?;
        done_when_gone(set_recording(cx, name, false).await)?;
        let deleted = cx
            .clients
            .config
            .delete_configuration_recorder()
            .configuration_recorder_name(name)
            .send()
            .await
            .map_err(|error| sdk_error(&format!("deleting configuration recorder {name}"), error));
        done_when_gone(deleted)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let name = recorded_id(prior)?;
        let Some(recorder) = describe_recorder(cx, name).await? else { return Ok(None) };
        let group = recorder.recording_group();
        let inputs = observed_inputs([
            ("name", recorder.name().map(|name| json!(name))),
            ("role_arn", recorder.role_arn().map(|role| json!(role))),
            ("all_supported", group.map(|group| json!(group.all_supported()))),
            (
                "include_global_resource_types",
                group.map(|group| json!(group.include_global_resource_types())),
            ),
        ]);
        Ok(Some(Observed { inputs, outputs: id_outputs(name) }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: ConfigurationRecorderArgs = cx.args()?;
        let name = required(args.name.as_deref(), RECORDER, "name")?;
        Ok(describe_recorder(cx, name).await?.map(|_| id_outputs(name)))
    }
}

/// Creates the recorder or replaces its settings; returns its outputs.
async fn put_recorder(cx: &Context<'_>) -> Result<Outputs> {
    let args: ConfigurationRecorderArgs = cx.args()?;
    let name = required(args.name.as_deref(), RECORDER, "name")?;
    let role = required(args.role_arn.as_deref(), RECORDER, "role_arn")?;
    let group = RecordingGroup::builder()
        .all_supported(args.all_supported.unwrap_or(true))
        .include_global_resource_types(args.include_global_resource_types.unwrap_or(false))
        .build();
    let recorder =
        ConfigurationRecorder::builder().name(name).role_arn(role).recording_group(group).build();
    // The role may have been created a moment ago.
    retry_consistency(
        "putting the configuration recorder",
        CONSISTENCY_RETRIES,
        config_not_yet_ready,
        || async {
            cx.clients
                .config
                .put_configuration_recorder()
                .configuration_recorder(recorder.clone())
                .send()
                .await
                .map_err(|error| {
                    sdk_error(&format!("putting configuration recorder {name}"), error)
                })
        },
    )
    .await?;
    Ok(id_outputs(name))
}

/// The recorder called `name`, or `None`.
async fn describe_recorder(cx: &Context<'_>, name: &str) -> Result<Option<ConfigurationRecorder>> {
    let found = cx
        .clients
        .config
        .describe_configuration_recorders()
        .configuration_recorder_names(name)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading configuration recorder {name}"), error));
    Ok(unless_gone(found)?.and_then(|found| {
        found
            .configuration_recorders()
            .iter()
            .find(|recorder| recorder.name() == Some(name))
            .cloned()
    }))
}

/// Starts or stops configuration recorders.
pub struct RecorderStatusHandler;

#[async_trait]
impl Handler for RecorderStatusHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        apply_status(cx).await
    }

    async fn update(&self, cx: &Context<'_>, _prior: &RecordedResource) -> Result<Outputs> {
        apply_status(cx).await
    }

    /// Stops the recorder (the recorder itself stays).
    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        done_when_gone(set_recording(cx, recorded_id(prior)?, false).await)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let name = recorded_id(prior)?;
        let Some(status) = describe_status(cx, name).await? else { return Ok(None) };
        let inputs = observed_inputs([
            ("name", status.name().map(|name| json!(name))),
            ("is_enabled", Some(json!(status.recording()))),
        ]);
        Ok(Some(Observed { inputs, outputs: id_outputs(name) }))
    }

    /// Found when the recorder already records (or not) as asked: the interrupted start or
    /// stop took effect. Otherwise the engine simply starts or stops it again.
    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: RecorderStatusArgs = cx.args()?;
        let name = required(args.name.as_deref(), STATUS, "name")?;
        let status = describe_status(cx, name).await?;
        let settled = status.is_some_and(|status| Some(status.recording()) == args.is_enabled);
        Ok(settled.then(|| id_outputs(name)))
    }
}

/// Starts or stops the recorder as the request says; returns the status's outputs.
async fn apply_status(cx: &Context<'_>) -> Result<Outputs> {
    let args: RecorderStatusArgs = cx.args()?;
    let name = required(args.name.as_deref(), STATUS, "name")?;
    let enabled = required(args.is_enabled, STATUS, "is_enabled")?;
    // The recorder and its delivery channel may have been created a moment ago.
    retry_consistency(
        "starting or stopping the recorder",
        CONSISTENCY_RETRIES,
        config_not_yet_ready,
        || set_recording(cx, name, enabled),
    )
    .await?;
    Ok(id_outputs(name))
}

/// Starts or stops the recorder `name`.
async fn set_recording(cx: &Context<'_>, name: &str, enabled: bool) -> Result<()> {
    let config = &cx.clients.config;
    if enabled {
        let started = config.start_configuration_recorder().configuration_recorder_name(name);
        started
            .send()
            .await
            .map(|_| ())
            .map_err(|error| sdk_error(&format!("starting configuration recorder {name}"), error))
    } else {
        let stopped = config.stop_configuration_recorder().configuration_recorder_name(name);
        stopped
            .send()
            .await
            .map(|_| ())
            .map_err(|error| sdk_error(&format!("stopping configuration recorder {name}"), error))
    }
}

/// The status of the recorder called `name`, or `None` when there is no such recorder.
async fn describe_status(
    cx: &Context<'_>,
    name: &str,
) -> Result<Option<ConfigurationRecorderStatus>> {
    let found = cx
        .clients
        .config
        .describe_configuration_recorder_status()
        .configuration_recorder_names(name)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading the status of recorder {name}"), error));
    Ok(unless_gone(found)?.and_then(|found| {
        found
            .configuration_recorders_status()
            .iter()
            .find(|status| status.name() == Some(name))
            .cloned()
    }))
}
