//! `aws:cloudwatch/MetricAlarm`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricAlarm, Statistic};
use cairn_dsl::aws::cloudwatch::MetricAlarmArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use crate::errors::{AwsError, Result, done_when_gone, int32, required, sdk_error};
use crate::resources::{
    Context, Handler, arn_tagging, float, non_empty_list, number_value, observed_inputs,
    observed_tags, outputs, owned_by, recorded_id,
};

const TYPE: &str = "aws:cloudwatch/MetricAlarm";

/// Creates, updates, reads and deletes metric alarms.
pub struct MetricAlarmHandler;

#[async_trait]
impl Handler for MetricAlarmHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: MetricAlarmArgs = cx.args()?;
        put_alarm(cx, &args, Some(cx.tags_with_ownership(&args.tags))).await?;
        let name = required(args.alarm_name.as_deref(), TYPE, "alarm_name")?;
        let alarm = describe_alarm(cx, name).await?.ok_or_else(|| {
            AwsError::new(format!("alarm {name} is missing right after its creation"))
        })?;
        alarm_outputs(&alarm)
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        let args: MetricAlarmArgs = cx.args()?;
        let old: MetricAlarmArgs = cx.prior_args(prior)?;
        // PutMetricAlarm replaces the alarm's whole definition but ignores tags on an
        // existing alarm: they change through TagResource/UntagResource.
        put_alarm(cx, &args, None).await?;
        let name = recorded_id(prior)?;
        let alarm = describe_alarm(cx, name)
            .await?
            .ok_or_else(|| AwsError::new(format!("alarm {name} is gone: refresh, then apply")))?;
        let arn = alarm_arn(&alarm)?;
        update_tags(cx, arn, &old.tags, &args.tags).await?;
        alarm_outputs(&alarm)
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let name = recorded_id(prior)?;
        let deleted = cx
            .clients
            .cloudwatch
            .delete_alarms()
            .alarm_names(name)
            .send()
            .await
            .map_err(|error| sdk_error(&format!("deleting alarm {name}"), error));
        done_when_gone(deleted)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let name = recorded_id(prior)?;
        let Some(alarm) = describe_alarm(cx, name).await? else { return Ok(None) };
        let tags = read_tags(cx, alarm_arn(&alarm)?).await?;
        let dimensions: BTreeMap<&str, &str> = alarm
            .dimensions()
            .iter()
            .filter_map(|dimension| Some((dimension.name()?, dimension.value()?)))
            .collect();
        let inputs = observed_inputs([
            ("alarm_name", alarm.alarm_name().map(|name| json!(name))),
            ("namespace", alarm.namespace().map(|namespace| json!(namespace))),
            ("metric_name", alarm.metric_name().map(|metric| json!(metric))),
            ("statistic", alarm.statistic().map(|statistic| json!(statistic.as_str()))),
            ("period", alarm.period().map(|period| json!(period))),
            ("evaluation_periods", alarm.evaluation_periods().map(|periods| json!(periods))),
            ("threshold", alarm.threshold().map(number_value)),
            ("comparison_operator", alarm.comparison_operator().map(|op| json!(op.as_str()))),
            ("dimensions", (!dimensions.is_empty()).then(|| json!(dimensions))),
            ("treat_missing_data", alarm.treat_missing_data().map(|treat| json!(treat))),
            ("alarm_description", alarm.alarm_description().map(|text| json!(text))),
            ("alarm_actions", non_empty_list(alarm.alarm_actions())),
            ("tags", observed_tags(&tags)),
        ]);
        Ok(Some(Observed { inputs, outputs: alarm_outputs(&alarm)? }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: MetricAlarmArgs = cx.args()?;
        let name = required(args.alarm_name.as_deref(), TYPE, "alarm_name")?;
        let Some(alarm) = describe_alarm(cx, name).await? else { return Ok(None) };
        let tags = read_tags(cx, alarm_arn(&alarm)?).await?;
        if !owned_by(&tags, cx.urn()) {
            return Ok(None);
        }
        alarm_outputs(&alarm).map(Some)
    }
}

/// Creates or replaces the alarm's definition; `tags` only count on a new alarm.
async fn put_alarm(
    cx: &Context<'_>,
    args: &MetricAlarmArgs,
    tags: Option<BTreeMap<String, String>>,
) -> Result<()> {
    let name = required(args.alarm_name.as_deref(), TYPE, "alarm_name")?;
    let dimensions = args
        .dimensions
        .iter()
        .flatten()
        .map(|(name, value)| Dimension::builder().name(name).value(value).build())
        .collect();
    cx.clients
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .set_namespace(args.namespace.clone())
        .set_metric_name(args.metric_name.clone())
        .set_statistic(args.statistic.as_deref().map(Statistic::from))
        .set_period(args.period.map(|period| int32(period, TYPE, "period")).transpose()?)
        .set_evaluation_periods(
            args.evaluation_periods
                .map(|periods| int32(periods, TYPE, "evaluation_periods"))
                .transpose()?,
        )
        .set_threshold(float(&args.threshold, TYPE, "threshold")?)
        .set_comparison_operator(args.comparison_operator.as_deref().map(ComparisonOperator::from))
        .set_dimensions(Some(dimensions))
        .set_treat_missing_data(args.treat_missing_data.clone())
        .set_alarm_description(args.alarm_description.clone())
        .set_alarm_actions(args.alarm_actions.clone())
        .set_tags(tags.map(|tags| sdk_tags(&tags)))
        .send()
        .await
        .map_err(|error| sdk_error(&format!("putting alarm {name}"), error))?;
    Ok(())
}

/// The metric alarm called `name`, or `None`.
async fn describe_alarm(cx: &Context<'_>, name: &str) -> Result<Option<MetricAlarm>> {
    let found = cx
        .clients
        .cloudwatch
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading alarm {name}"), error))?;
    Ok(found.metric_alarms().iter().find(|alarm| alarm.alarm_name() == Some(name)).cloned())
}

fn alarm_arn(alarm: &MetricAlarm) -> Result<&str> {
    alarm.alarm_arn().ok_or_else(|| {
        AwsError::new(format!(
            "CloudWatch described alarm {} without an ARN",
            alarm.alarm_name().unwrap_or_default()
        ))
    })
}

/// The alarm's outputs: its name as id, and its ARN.
fn alarm_outputs(alarm: &MetricAlarm) -> Result<Outputs> {
    let arn = alarm_arn(alarm)?;
    Ok(outputs([("id", json!(alarm.alarm_name())), ("arn", json!(arn))]))
}

arn_tagging!(aws_sdk_cloudwatch, cloudwatch);
