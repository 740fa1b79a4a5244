//! The declared model: resources, their schemas, provider bindings and the stack a program
//! fills.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::policy::{PolicyRule, PolicySettings};
use crate::value::{Input, OutputRef};

/// Where resources live: one account in one region, and how to reach it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderBinding {
    /// The binding's name in the stack, part of every URN (`trading`, `analytics`).
    pub name: String,
    /// The 12-digit account id the binding must act in.
    pub account_id: String,
    /// The region, for example `us-east-1`.
    pub region: String,
    /// Provider-specific settings (role to assume, external id, session name).
    #[serde(default)]
    pub settings: serde_json::Value,
}

impl ProviderBinding {
    /// `account/region`, the place resources of this binding live.
    pub fn location(&self) -> String {
        format!("{}/{}", self.account_id, self.region)
    }
}

/// Checks a resource's inputs before anything else happens; returns every problem found.
pub type Validator = fn(&ResourceView<'_>) -> Vec<InputIssue>;

/// The planning half of a resource type: what the engine must know without a provider.
#[derive(Debug)]
pub struct Schema {
    /// The type token, for example `aws:ec2/Vpc`.
    pub type_token: &'static str,
    /// The input properties the type accepts.
    pub properties: &'static [PropertySpec],
    /// Outputs the provider computes (always including `id`).
    pub outputs: &'static [&'static str],
    /// Whether a replacement may create the new resource before deleting the old one. Named
    /// resources whose names collide must say `false`: they are deleted first.
    pub create_before_delete: bool,
    /// Whether the resource carries tags (and so must carry the mandatory ones).
    pub taggable: bool,
    /// Whether this is a read-only lookup of something that exists (a data source): it is
    /// read at apply, never created, changed or deleted in the cloud.
    pub data_source: bool,
    /// The type's input validation.
    pub validate: Validator,
}

/// One input property of a resource type.
#[derive(Debug)]
pub struct PropertySpec {
    /// The property's name.
    pub name: &'static str,
    /// Whether a change to it cannot be applied in place, so the resource is replaced.
    pub force_new: bool,
    /// Whether it is the name the resource is known by in the cloud (it must carry the
    /// environment suffix).
    pub is_name: bool,
}

impl Schema {
    /// Whether a change to `property` forces a replacement.
    pub fn forces_replacement(&self, property: &str) -> bool {
        self.properties.iter().any(|spec| spec.name == property && spec.force_new)
    }

    /// The properties that hold the resource's name in the cloud.
    pub fn name_properties(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.properties.iter().filter(|spec| spec.is_name).map(|spec| spec.name)
    }

    /// A validator that accepts everything, for types with nothing to check.
    pub fn no_validation(_: &ResourceView<'_>) -> Vec<InputIssue> {
        Vec::new()
    }
}

/// One problem with one input of one resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputIssue {
    /// The property at fault.
    pub property: String,
    /// What is wrong, with the offending value.
    pub problem: String,
    /// What to do about it.
    pub fix: String,
}

impl InputIssue {
    /// An issue with `property`.
    pub fn new(
        property: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        InputIssue { property: property.into(), problem: problem.into(), fix: fix.into() }
    }
}

/// Options that change how the engine treats a resource, as in Pulumi.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceOptions {
    /// Explicit dependencies, by logical name, beyond those its inputs reference.
    pub depends_on: Vec<String>,
    /// Refuse to delete or replace this resource.
    pub protect: bool,
    /// Replace by deleting first even when the type could create first.
    pub delete_before_replace: bool,
    /// Inputs whose changes are ignored after creation.
    pub ignore_changes: Vec<String>,
    /// Inputs whose changes force a replacement in addition to the schema's.
    pub replace_on_changes: Vec<String>,
    /// Policy rules waived for this resource, with the reason.
    pub waivers: Vec<Waiver>,
    /// The component that declared it (`trading`, or `outer/inner` for nested ones): the
    /// plan shows the component's resources as one group, the graph as one cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
}

/// A resource renamed in the program, so that the state's record under the old name is the
/// resource now declared under the new one (Terraform's `moved` block, Pulumi's alias): the
/// plan shows the move and no replacement, and apply renames the record without a cloud call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    /// The logical name the state may still record it under.
    pub from: String,
    /// The logical name the program declares it under now.
    pub to: String,
}

/// A policy rule that does not apply to one resource, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    /// The rule's id.
    pub rule: String,
    /// Why it is waived; printed with the plan.
    pub reason: String,
}

/// A resource as the program declares it.
#[derive(Clone, Debug)]
pub struct Resource {
    /// Logical name, unique in the stack.
    pub name: String,
    /// The provider binding it lives in.
    pub binding: String,
    /// Its type's schema.
    pub schema: &'static Schema,
    /// Input properties by name.
    pub inputs: BTreeMap<String, Input>,
    /// Options.
    pub options: ResourceOptions,
}

impl Resource {
    /// The names of the resources this one depends on, through its inputs and `depends_on`,
    /// in first-seen order without repeats.
    pub fn dependency_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for input in self.inputs.values() {
            input.for_each_ref(&mut |reference| push_unique(&mut names, &reference.resource));
        }
        for name in &self.options.depends_on {
            push_unique(&mut names, name);
        }
        names
    }

    /// The reference a property holds, when the property is a plain reference.
    pub fn reference(&self, property: &str) -> Option<&OutputRef> {
        match self.inputs.get(property) {
            Some(Input::Ref(reference)) => Some(reference),
            _ => None,
        }
    }
}

fn push_unique<'a>(names: &mut Vec<&'a str>, name: &'a str) {
    if !names.contains(&name) {
        names.push(name);
    }
}

/// Everything a program declares: the desired state of one stack.
#[derive(Clone, Debug, Default)]
pub struct StackSpec {
    /// The policy rules every plan of this stack checks.
    pub policies: Vec<&'static PolicyRule>,
    /// What the rules are configured with.
    pub policy_settings: PolicySettings,
    /// The stack's name, part of every URN.
    pub name: String,
    /// Provider bindings by name.
    pub bindings: BTreeMap<String, ProviderBinding>,
    /// Resources in declaration order.
    pub resources: Vec<Resource>,
    /// Stack outputs by name.
    pub outputs: BTreeMap<String, Input>,
    /// Resources renamed in the program, old name to new.
    pub moves: Vec<Move>,
}

impl StackSpec {
    /// An empty stack called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        StackSpec { name: name.into(), ..StackSpec::default() }
    }

    /// The URN of a resource of this stack.
    pub fn urn_of(&self, resource: &Resource) -> Urn {
        Urn::new(&self.name, &resource.binding, resource.schema.type_token, &resource.name)
    }

    /// The resource called `name`.
    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|resource| resource.name == name)
    }
}

/// A read-only view of one resource inside its stack, given to validators.
#[derive(Clone, Copy, Debug)]
pub struct ResourceView<'a> {
    /// The resource being checked.
    pub resource: &'a Resource,
    /// The whole stack, to follow references.
    pub stack: &'a StackSpec,
}

impl<'a> ResourceView<'a> {
    /// The input `property`, if set.
    pub fn input(&self, property: &str) -> Option<&'a Input> {
        self.resource.inputs.get(property)
    }

    /// The literal string value of `property`, if it is one.
    pub fn literal_str(&self, property: &str) -> Option<&'a str> {
        self.input(property).and_then(Input::as_literal_str)
    }

    /// The resource that `property` refers to, when it is a plain reference.
    pub fn referenced(&self, property: &str) -> Option<&'a Resource> {
        let reference = self.resource.reference(property)?;
        self.stack.resource(&reference.resource)
    }
}

/// A resource's identity: stack, provider binding, type and name. Two declarations with the
/// same URN are the same resource; moving one to another binding is a replacement.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Urn(String);

impl Urn {
    /// `urn:cairn:<stack>::<binding>::<type>::<name>`.
    pub fn new(stack: &str, binding: &str, type_token: &str, name: &str) -> Self {
        Urn(format!("urn:cairn:{stack}::{binding}::{type_token}::{name}"))
    }

    /// The URN as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Urn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Urn {
    fn from(text: String) -> Self {
        Urn(text)
    }
}
