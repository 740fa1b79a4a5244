//! `aws:config/ConfigRule`: rules backed by AWS managed rules.

use async_trait::async_trait;
use aws_sdk_config::types::{ConfigRule, MaximumExecutionFrequency, Owner, Scope, Source};
use cairn_dsl::aws::config::ConfigRuleArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use super::config_not_yet_ready;
use crate::errors::{
    AwsError, CONSISTENCY_RETRIES, Result, done_when_gone, required, retry_consistency, sdk_error,
    unless_gone,
};
use crate::resources::{
    Context, Handler, arn_tagging, non_empty_list, observed_inputs, observed_tags, outputs,
    owned_by, recorded_id,
};

const TYPE: &str = "aws:config/ConfigRule";

/// Creates, updates, reads and deletes Config rules.
pub struct ConfigRuleHandler;

#[async_trait]
impl Handler for ConfigRuleHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        let args: ConfigRuleArgs = cx.args()?;
        put_rule(cx, &args).await?;
        rule_outputs(&current_rule(cx, &args).await?)
    }

    async fn update(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Outputs> {
        let args: ConfigRuleArgs = cx.args()?;
        let old: ConfigRuleArgs = cx.prior_args(prior)?;
        // The put carries every tag (moto replaces the whole rule, tags included); tags
        // removed from the program are removed explicitly, and changed ones set again, so
        // the outcome does not depend on how the put treats tags of an existing rule.
        put_rule(cx, &args).await?;
        let rule = current_rule(cx, &args).await?;
        update_tags(cx, rule_arn(&rule)?, &old.tags, &args.tags).await?;
        rule_outputs(&rule)
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let name = recorded_id(prior)?;
        // A rule being evaluated cannot be deleted until the evaluation ends.
        let deleted = retry_consistency(
            "deleting the rule",
            CONSISTENCY_RETRIES,
            being_evaluated,
            || async {
                cx.clients
                    .config
                    .delete_config_rule()
                    .config_rule_name(name)
                    .send()
                    .await
                    .map_err(|error| sdk_error(&format!("deleting Config rule {name}"), error))
            },
        )
        .await;
        done_when_gone(deleted)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let name = recorded_id(prior)?;
        let Some(rule) = describe_rule(cx, name).await? else { return Ok(None) };
        let arn = rule_arn(&rule)?;
        let tags = read_tags(cx, arn).await?;
        let scope = rule.scope();
        let inputs = observed_inputs([
            ("name", rule.config_rule_name().map(|name| json!(name))),
            (
                "source_identifier",
                rule.source().and_then(Source::source_identifier).map(|id| json!(id)),
            ),
            ("input_parameters", rule.input_parameters().map(|parameters| json!(parameters))),
            (
                "scope_compliance_resource_types",
                scope.and_then(|scope| non_empty_list(scope.compliance_resource_types())),
            ),
            ("scope_tag_key", scope.and_then(Scope::tag_key).map(|key| json!(key))),
            ("scope_tag_value", scope.and_then(Scope::tag_value).map(|value| json!(value))),
            ("description", rule.description().map(|text| json!(text))),
            (
                "maximum_execution_frequency",
                rule.maximum_execution_frequency().map(|frequency| json!(frequency.as_str())),
            ),
            ("tags", observed_tags(&tags)),
        ]);
        Ok(Some(Observed { inputs, outputs: rule_outputs(&rule)? }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: ConfigRuleArgs = cx.args()?;
        let name = required(args.name.as_deref(), TYPE, "name")?;
        let Some(rule) = describe_rule(cx, name).await? else { return Ok(None) };
        let tags = read_tags(cx, rule_arn(&rule)?).await?;
        if !owned_by(&tags, cx.urn()) {
            return Ok(None);
        }
        rule_outputs(&rule).map(Some)
    }
}

/// Whether an error code says the rule is busy being evaluated.
fn being_evaluated(code: &str) -> bool {
    code == "ResourceInUseException"
}

/// Creates the rule or replaces it, with every tag (the program's and the ownership tag).
async fn put_rule(cx: &Context<'_>, args: &ConfigRuleArgs) -> Result<()> {
    let name = required(args.name.as_deref(), TYPE, "name")?;
    let identifier = required(args.source_identifier.as_deref(), TYPE, "source_identifier")?;
    let source = Source::builder()
        .owner(Owner::Aws)
        .source_identifier(identifier)
        .build()
        .map_err(|error| AwsError::new(format!("{TYPE} `{name}`: {error}")))?;
    let rule = ConfigRule::builder()
        .config_rule_name(name)
        .source(source)
        .set_input_parameters(args.input_parameters.clone())
        .set_scope(scope(args))
        .set_description(args.description.clone())
        .set_maximum_execution_frequency(
            args.maximum_execution_frequency.as_deref().map(MaximumExecutionFrequency::from),
        )
        .build();
    let tags = sdk_tags(&cx.tags_with_ownership(&args.tags));
    // The account's recorder may have been created a moment ago.
    retry_consistency(
        "putting the Config rule",
        CONSISTENCY_RETRIES,
        config_not_yet_ready,
        || async {
            cx.clients
                .config
                .put_config_rule()
                .config_rule(rule.clone())
                .set_tags(Some(tags.clone()))
                .send()
                .await
                .map_err(|error| sdk_error(&format!("putting Config rule {name}"), error))
        },
    )
    .await?;
    Ok(())
}

/// The rule's scope, when the program sets any part of it.
fn scope(args: &ConfigRuleArgs) -> Option<Scope> {
    let types = args.scope_compliance_resource_types.clone();
    if types.is_none() && args.scope_tag_key.is_none() && args.scope_tag_value.is_none() {
        return None;
    }
    Some(
        Scope::builder()
            .set_compliance_resource_types(types)
            .set_tag_key(args.scope_tag_key.clone())
            .set_tag_value(args.scope_tag_value.clone())
            .build(),
    )
}

/// The rule the request names, read back after a put.
async fn current_rule(cx: &Context<'_>, args: &ConfigRuleArgs) -> Result<ConfigRule> {
    let name = required(args.name.as_deref(), TYPE, "name")?;
    describe_rule(cx, name)
        .await?
        .ok_or_else(|| AwsError::new(format!("Config rule {name} is missing right after its put")))
}

/// The rule called `name`, or `None`.
async fn describe_rule(cx: &Context<'_>, name: &str) -> Result<Option<ConfigRule>> {
    let found = cx
        .clients
        .config
        .describe_config_rules()
        .config_rule_names(name)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading Config rule {name}"), error));
    Ok(unless_gone(found)?.and_then(|found| {
        found.config_rules().iter().find(|rule| rule.config_rule_name() == Some(name)).cloned()
    }))
}

fn rule_arn(rule: &ConfigRule) -> Result<&str> {
    rule.config_rule_arn().ok_or_else(|| {
        AwsError::new(format!(
            "AWS Config described rule {} without an ARN",
            rule.config_rule_name().unwrap_or_default()
        ))
    })
}

/// The rule's outputs: its name as id, and its ARN.
fn rule_outputs(rule: &ConfigRule) -> Result<Outputs> {
    let arn = rule_arn(rule)?;
    Ok(outputs([("id", json!(rule.config_rule_name())), ("arn", json!(arn))]))
}

arn_tagging!(aws_sdk_config, config);
