//! `aws:logs/MetricFilter`. Metric filters carry no tags: the group and name are the
//! identity, and the id is `<group>:<name>` (neither may contain `:`).

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::{MetricFilter, MetricTransformation};
use cairn_dsl::aws::logs::MetricFilterArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use crate::errors::{
    AwsError, CONSISTENCY_RETRIES, Result, done_when_gone, referenced_not_yet_visible, required,
    retry_consistency, sdk_error, unless_gone,
};
use crate::resources::{
    Context, Handler, float, number_value, observed_inputs, outputs, recorded_id,
};

const TYPE: &str = "aws:logs/MetricFilter";

/// How many deletes remove a filter at most (see [`delete_filter`]).
const DELETE_ATTEMPTS: usize = 5;

/// Creates, updates, reads and deletes metric filters.
pub struct MetricFilterHandler;

#[async_trait]
impl Handler for MetricFilterHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        put_filter(cx).await
    }

    async fn update(&self, cx: &Context<'_>, _prior: &RecordedResource) -> Result<Outputs> {
        put_filter(cx).await
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let (group, name) = split_id(recorded_id(prior)?)?;
        delete_filter(cx, group, name).await
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let (group, name) = split_id(recorded_id(prior)?)?;
        let Some(filter) = find_filter(cx, group, name).await? else { return Ok(None) };
        let metric = filter.metric_transformations().first();
        let inputs = observed_inputs([
            ("log_group_name", filter.log_group_name().map(|group| json!(group))),
            ("name", filter.filter_name().map(|name| json!(name))),
            ("pattern", filter.filter_pattern().map(|pattern| json!(pattern))),
            ("metric_name", metric.map(|metric| json!(metric.metric_name()))),
            ("metric_namespace", metric.map(|metric| json!(metric.metric_namespace()))),
            ("metric_value", metric.map(|metric| json!(metric.metric_value()))),
            (
                "default_value",
                metric.and_then(MetricTransformation::default_value).map(number_value),
            ),
        ]);
        Ok(Some(Observed { inputs, outputs: filter_outputs(group, name) }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: MetricFilterArgs = cx.args()?;
        let group = required(args.log_group_name.as_deref(), TYPE, "log_group_name")?;
        let name = required(args.name.as_deref(), TYPE, "name")?;
        let found = find_filter(cx, group, name).await?;
        Ok(found.map(|_| filter_outputs(group, name)))
    }
}

/// Creates the filter or replaces its definition; returns its outputs.
async fn put_filter(cx: &Context<'_>) -> Result<Outputs> {
    let args: MetricFilterArgs = cx.args()?;
    let group = required(args.log_group_name.as_deref(), TYPE, "log_group_name")?;
    let name = required(args.name.as_deref(), TYPE, "name")?;
    let pattern = required(args.pattern.as_deref(), TYPE, "pattern")?;
    let metric = MetricTransformation::builder()
        .set_metric_name(args.metric_name.clone())
        .set_metric_namespace(args.metric_namespace.clone())
        .set_metric_value(args.metric_value.clone())
        .set_default_value(float(&args.default_value, TYPE, "default_value")?)
        .build()
        .map_err(|error| {
            AwsError::new(format!("{TYPE} `{name}`: {error}: set it in the program"))
        })?;
    // The group may have been created a moment ago.
    retry_consistency(
        "putting the metric filter",
        CONSISTENCY_RETRIES,
        referenced_not_yet_visible,
        || async {
            cx.clients
                .logs
                .put_metric_filter()
                .log_group_name(group)
                .filter_name(name)
                .filter_pattern(pattern)
                .metric_transformations(metric.clone())
                .send()
                .await
                .map_err(|error| {
                    sdk_error(&format!("putting metric filter {name} on {group}"), error)
                })
        },
    )
    .await?;
    Ok(filter_outputs(group, name))
}

/// Deletes the filter and checks that it is gone, deleting again while it is not.
///
/// On AWS one delete does it: a put with an existing name replaces the filter. moto 5.2.5
/// keeps one copy per put and deletes only one copy per call, so after an update it takes
/// one delete per put; the check makes both end in the same place.
async fn delete_filter(cx: &Context<'_>, group: &str, name: &str) -> Result<()> {
    for _ in 0..DELETE_ATTEMPTS {
        let deleted = cx
            .clients
            .logs
            .delete_metric_filter()
            .log_group_name(group)
            .filter_name(name)
            .send()
            .await
            .map_err(|error| {
                sdk_error(&format!("deleting metric filter {name} of {group}"), error)
            });
        done_when_gone(deleted)?;
        if find_filter(cx, group, name).await?.is_none() {
            return Ok(());
        }
    }
    Err(AwsError::new(format!(
        "metric filter {name} of log group {group} is still there after {DELETE_ATTEMPTS} \
         deletes: delete it by hand, then run destroy again"
    )))
}

/// The filter `name` of `group`, or `None` when it or the group is gone. When the emulator
/// lists several copies (one per put), the last is the current one.
async fn find_filter(cx: &Context<'_>, group: &str, name: &str) -> Result<Option<MetricFilter>> {
    let mut token: Option<String> = None;
    let mut current = None;
    loop {
        let page = cx
            .clients
            .logs
            .describe_metric_filters()
            .log_group_name(group)
            .filter_name_prefix(name)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|error| sdk_error(&format!("reading metric filter {name} of {group}"), error));
        let Some(page) = unless_gone(page)? else { return Ok(None) };
        let mut exact =
            page.metric_filters().iter().filter(|filter| filter.filter_name() == Some(name));
        current = exact.next_back().cloned().or(current);
        match page.next_token() {
            Some(next) if token.as_deref() != Some(next) => token = Some(next.to_owned()),
            _ => return Ok(current),
        }
    }
}

/// The id `<group>:<name>`.
fn filter_outputs(group: &str, name: &str) -> Outputs {
    outputs([("id", json!(format!("{group}:{name}")))])
}

/// The group and name in an id `<group>:<name>`.
fn split_id(id: &str) -> Result<(&str, &str)> {
    id.split_once(':').ok_or_else(|| {
        AwsError::new(format!(
            "the recorded id `{id}` of this {TYPE} is not `<log group>:<filter name>`: remove it \
             from the state and import it again"
        ))
    })
}
