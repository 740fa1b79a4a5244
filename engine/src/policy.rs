//! The policy framework: rules that run on the declared stack at every plan, before
//! anything else happens. A rule of severity error blocks the plan; a warning is shown with
//! it. A resource can waive a rule with a reason, which the plan prints.
//!
//! The rules themselves travel with the declarations (a program's `Stack` carries its
//! pack), so the engine never needs to know a cloud's types.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::model::{Resource, StackSpec};

/// How serious a violation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Shown with the plan; does not block it.
    Warning,
    /// Blocks the plan.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One rule of a policy pack.
#[derive(Debug)]
pub struct PolicyRule {
    /// A short stable id, used to waive it: `no-open-cidr`.
    pub id: &'static str,
    /// One line saying what it requires.
    pub description: &'static str,
    /// Error (blocks) or warning (shows).
    pub severity: Severity,
    /// Finds the violations in a stack.
    pub check: fn(&PolicyContext<'_>) -> Vec<Violation>,
}

/// What the rules are configured with; a program fills it from its stack config.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySettings {
    /// Tag keys every taggable resource must carry.
    pub required_tags: Vec<String>,
    /// The only ports security group ingress may open.
    pub allowed_ports: Vec<u16>,
    /// The suffix every name must contain.
    pub environment_suffix: String,
    /// Every string value of the stack config: a literal may only contain an account id,
    /// region or environment name when configuration supplied it.
    pub configured_values: BTreeSet<String>,
}

/// What a rule sees: the declared stack and the settings.
#[derive(Clone, Copy, Debug)]
pub struct PolicyContext<'a> {
    /// The declared stack.
    pub stack: &'a StackSpec,
    /// The settings.
    pub settings: &'a PolicySettings,
}

impl<'a> PolicyContext<'a> {
    /// The resources of type `type_token`, in declaration order.
    pub fn resources_of(&self, type_token: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.stack.resources.iter().filter(move |resource| resource.schema.type_token == type_token)
    }
}

/// One place where a resource breaks a rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The resource's logical name.
    pub resource: String,
    /// The property at fault.
    pub property: String,
    /// The offending value, as the program wrote it.
    pub value: String,
    /// What is wrong.
    pub problem: String,
    /// What to do.
    pub fix: String,
}

/// A violation found by a rule, with the rule's id and severity, and a waiver if the
/// resource has one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule's id.
    pub rule: String,
    /// The rule's severity.
    pub severity: Severity,
    /// Where and what.
    pub violation: Violation,
    /// The waiver's reason, when the resource waives the rule.
    pub waived: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let violation = &self.violation;
        write!(
            f,
            "[{}] resource `{}` property `{}` = {}: {}; fix: {}",
            self.rule,
            violation.resource,
            violation.property,
            violation.value,
            violation.problem,
            violation.fix
        )?;
        if let Some(reason) = &self.waived {
            write!(f, " (waived: {reason})")?;
        }
        Ok(())
    }
}

/// The unwaived error findings that block a plan.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub struct PolicyErrors(pub Vec<Finding>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the program breaks {} policy rule(s); nothing was changed:", self.0.len())?;
        for finding in &self.0 {
            writeln!(f, "  - {finding}")?;
        }
        Ok(())
    }
}

/// Runs every rule of `stack` and returns all findings, waivers applied, in rule order.
pub fn check_policies(stack: &StackSpec) -> Vec<Finding> {
    let context = PolicyContext { stack, settings: &stack.policy_settings };
    let mut findings = Vec::new();
    for rule in &stack.policies {
        for violation in (rule.check)(&context) {
            let waived = stack
                .resource(&violation.resource)
                .and_then(|resource| {
                    resource.options.waivers.iter().find(|waiver| waiver.rule == rule.id)
                })
                .map(|waiver| waiver.reason.clone());
            findings.push(Finding {
                rule: rule.id.to_owned(),
                severity: rule.severity,
                violation,
                waived,
            });
        }
    }
    findings
}

/// Whether a finding blocks the plan.
pub fn blocks(finding: &Finding) -> bool {
    finding.severity == Severity::Error && finding.waived.is_none()
}
