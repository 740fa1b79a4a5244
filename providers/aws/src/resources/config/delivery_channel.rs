//! `aws:config/DeliveryChannel`.

use async_trait::async_trait;
use aws_sdk_config::types::{
    ConfigSnapshotDeliveryProperties, DeliveryChannel, MaximumExecutionFrequency,
};
use cairn_dsl::aws::config::DeliveryChannelArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use super::config_not_yet_ready;
use crate::errors::{
    CONSISTENCY_RETRIES, Result, done_when_gone, required, retry_consistency, sdk_error,
    unless_gone,
};
use crate::resources::{Context, Handler, id_outputs, observed_inputs, recorded_id};

const TYPE: &str = "aws:config/DeliveryChannel";

/// Creates, updates, reads and deletes delivery channels.
pub struct DeliveryChannelHandler;

#[async_trait]
impl Handler for DeliveryChannelHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        put_channel(cx).await
    }

    async fn update(&self, cx: &Context<'_>, _prior: &RecordedResource) -> Result<Outputs> {
        put_channel(cx).await
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let name = recorded_id(prior)?;
        let deleted = cx
            .clients
            .config
            .delete_delivery_channel()
            .delivery_channel_name(name)
            .send()
            .await
            .map_err(|error| sdk_error(&format!("deleting delivery channel {name}"), error));
        done_when_gone(deleted)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let name = recorded_id(prior)?;
        let Some(channel) = describe_channel(cx, name).await? else { return Ok(None) };
        let frequency = channel
            .config_snapshot_delivery_properties()
            .and_then(ConfigSnapshotDeliveryProperties::delivery_frequency);
        let inputs = observed_inputs([
            ("name", channel.name().map(|name| json!(name))),
            ("s3_bucket_name", channel.s3_bucket_name().map(|bucket| json!(bucket))),
            ("s3_key_prefix", channel.s3_key_prefix().map(|prefix| json!(prefix))),
            ("snapshot_delivery_frequency", frequency.map(|frequency| json!(frequency.as_str()))),
        ]);
        Ok(Some(Observed { inputs, outputs: id_outputs(name) }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: DeliveryChannelArgs = cx.args()?;
        let name = required(args.name.as_deref(), TYPE, "name")?;
        Ok(describe_channel(cx, name).await?.map(|_| id_outputs(name)))
    }
}

/// Creates the channel or replaces its settings; returns its outputs.
async fn put_channel(cx: &Context<'_>) -> Result<Outputs> {
    let args: DeliveryChannelArgs = cx.args()?;
    let name = required(args.name.as_deref(), TYPE, "name")?;
    let bucket = required(args.s3_bucket_name.as_deref(), TYPE, "s3_bucket_name")?;
    let snapshots = args.snapshot_delivery_frequency.as_deref().map(|frequency| {
        ConfigSnapshotDeliveryProperties::builder()
            .delivery_frequency(MaximumExecutionFrequency::from(frequency))
            .build()
    });
    let channel = DeliveryChannel::builder()
        .name(name)
        .s3_bucket_name(bucket)
        .set_s3_key_prefix(args.s3_key_prefix.clone())
        .set_config_snapshot_delivery_properties(snapshots)
        .build();
    // The recorder, the bucket and its policy may have been created a moment ago.
    retry_consistency(
        "putting the delivery channel",
        CONSISTENCY_RETRIES,
        config_not_yet_ready,
        || async {
            cx.clients
                .config
                .put_delivery_channel()
                .delivery_channel(channel.clone())
                .send()
                .await
                .map_err(|error| sdk_error(&format!("putting delivery channel {name}"), error))
        },
    )
    .await?;
    Ok(id_outputs(name))
}

/// The delivery channel called `name`, or `None`.
async fn describe_channel(cx: &Context<'_>, name: &str) -> Result<Option<DeliveryChannel>> {
    let found = cx
        .clients
        .config
        .describe_delivery_channels()
        .delivery_channel_names(name)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading delivery channel {name}"), error));
    Ok(unless_gone(found)?.and_then(|found| {
        found.delivery_channels().iter().find(|channel| channel.name() == Some(name)).cloned()
    }))
}
