//! The `Stack` a program fills, provider bindings, typed resource handles and outputs.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::rc::Rc;

use cairn_engine::{
    Input, Move, OutputRef, PolicyRule, PolicySettings, ProviderBinding,
    Resource as EngineResource, ResourceOptions, Schema, StackSpec, Waiver,
};
use serde_json::Value;

/// The name of the input that carries a taggable resource's tags.
pub const TAGS: &str = "tags";

/// The stack a program declares its resources into. Cheap to clone: clones share the stack.
#[derive(Clone, Debug)]
pub struct Stack {
    inner: Rc<RefCell<StackInner>>,
}

#[derive(Debug)]
struct StackInner {
    spec: StackSpec,
    default_tags: BTreeMap<String, String>,
}

impl Stack {
    /// An empty stack called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        let inner = StackInner { spec: StackSpec::new(name), default_tags: BTreeMap::new() };
        Stack { inner: Rc::new(RefCell::new(inner)) }
    }

    /// Tags every taggable resource carries, merged under the resource's own.
    pub fn set_default_tags(&self, tags: BTreeMap<String, String>) {
        self.inner.borrow_mut().default_tags = tags;
    }

    /// Registers a provider binding (an account in a region) and returns a handle that
    /// declares resources into it: a [`crate::aws::Account`], or any provider's binding.
    pub fn provider(&self, binding: impl Into<ProviderBinding>) -> Binding {
        let binding = binding.into();
        let name = binding.name.clone();
        self.inner.borrow_mut().spec.bindings.insert(name.clone(), binding);
        Binding { stack: self.clone(), name, component: None }
    }

    /// Checks every plan of this stack against `rules`, configured with `settings`.
    pub fn enforce(&self, rules: &[&'static PolicyRule], settings: PolicySettings) {
        let mut inner = self.inner.borrow_mut();
        inner.spec.policies = rules.to_vec();
        inner.spec.policy_settings = settings;
    }

    /// Says that the resource the program now declares as `to` is the one the state may
    /// still record as `from` (same binding and type): the plan shows the move instead of a
    /// delete and a create, and apply renames the record. Keep it until every state this
    /// program runs against has been applied once.
    pub fn moved(&self, from: impl Into<String>, to: impl Into<String>) {
        let moved = Move { from: from.into(), to: to.into() };
        self.inner.borrow_mut().spec.moves.push(moved);
    }

    /// Exports a stack output.
    pub fn export(&self, name: impl Into<String>, value: impl Into<Input>) {
        self.inner.borrow_mut().spec.outputs.insert(name.into(), value.into());
    }

    /// The declared stack, for the engine, with what the types derive from the whole stack
    /// filled in (each network ACL's declared entries, each route table's declared routes).
    pub fn spec(&self) -> StackSpec {
        let mut spec = self.inner.borrow().spec.clone();
        crate::aws::ec2::declare_members(&mut spec);
        spec
    }

    fn push(&self, mut resource: EngineResource) {
        let mut inner = self.inner.borrow_mut();
        if resource.schema.taggable {
            let tags = merged_tags(&inner.default_tags, resource.inputs.remove(TAGS));
            resource.inputs.insert(TAGS.to_owned(), tags);
        }
        inner.spec.resources.push(resource);
    }
}

/// The stack's default tags under the resource's own: a literal map when both are literal.
fn merged_tags(defaults: &BTreeMap<String, String>, own: Option<Input>) -> Input {
    let mut merged: BTreeMap<String, Input> =
        defaults.iter().map(|(key, value)| (key.clone(), Input::string(value))).collect();
    match own {
        Some(Input::Literal(Value::Object(entries))) => {
            merged.extend(entries.into_iter().map(|(key, value)| (key, Input::Literal(value))));
        }
        Some(Input::Map(entries)) => merged.extend(entries),
        Some(other) => return other,
        None => {}
    }
    Input::from(merged)
}

/// A provider binding of a stack: declares resources into one account and region.
#[derive(Clone, Debug)]
pub struct Binding {
    stack: Stack,
    name: String,
    /// The component path this handle declares into (`outer/inner`), if any.
    component: Option<String>,
}

impl Binding {
    /// The binding's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The binding's account and region.
    pub fn config(&self) -> ProviderBinding {
        let inner = self.stack.inner.borrow();
        inner.spec.bindings.get(&self.name).cloned().unwrap_or_else(|| ProviderBinding {
            name: self.name.clone(),
            account_id: String::new(),
            region: String::new(),
            settings: Value::Null,
        })
    }

    /// A handle that declares into the same binding as part of the component `name`, the
    /// way a Pulumi ComponentResource or a CDK Construct groups its children: each resource
    /// it adds is named `name-<child>`, shown in the plan grouped under `name` and drawn in
    /// the graph as one cluster. Components nest: `outer-inner-<child>`, in `outer/inner`.
    pub fn component(&self, name: &str) -> Binding {
        let path = match &self.component {
            Some(parent) => format!("{parent}/{name}"),
            None => name.to_owned(),
        };
        Binding { stack: self.stack.clone(), name: self.name.clone(), component: Some(path) }
    }

    /// Declares `declaration` in this binding (in its component, if it is a component's
    /// handle) and returns its typed handle.
    pub fn add<T: Declare>(&self, declaration: T) -> Resource<T> {
        let mut parts = declaration.into_parts();
        if let Some(path) = &self.component {
            parts.name = format!("{}-{}", path.replace('/', "-"), parts.name);
            parts.options.component = Some(path.clone());
        }
        let name = parts.name.clone();
        self.stack.push(EngineResource {
            name: parts.name,
            binding: self.name.clone(),
            schema: T::schema(),
            inputs: parts.inputs,
            options: parts.options,
        });
        Resource { outputs: T::Outputs::from(OutputsOf { name: name.clone() }), name }
    }
}

/// The parts every declaration has: a name, inputs and options.
#[derive(Clone, Debug, Default)]
pub struct Parts {
    /// The logical name.
    pub name: String,
    /// Inputs by property name.
    pub inputs: BTreeMap<String, Input>,
    /// Resource options.
    pub options: ResourceOptions,
}

impl Parts {
    /// Parts for a resource called `name`.
    pub fn named(name: impl Into<String>) -> Self {
        Parts { name: name.into(), ..Parts::default() }
    }
}

/// A typed resource declaration. The [`resource!`](crate::resource) macro implements it;
/// the provided methods set resource options.
pub trait Declare: Sized {
    /// The typed output accessors of a declared resource of this type.
    type Outputs: From<OutputsOf>;

    /// The type's schema.
    fn schema() -> &'static Schema;
    /// The declaration's parts, to change them.
    fn parts_mut(&mut self) -> &mut Parts;
    /// The declaration's parts.
    fn into_parts(self) -> Parts;

    /// Sets input `property` to `value` (for properties the typed methods do not cover).
    fn set(mut self, property: &str, value: impl Into<Input>) -> Self {
        self.parts_mut().inputs.insert(property.to_owned(), value.into());
        self
    }

    /// Makes this resource wait for `other` even without a reference to it.
    fn depends_on<U: Declare>(mut self, other: &Resource<U>) -> Self {
        self.parts_mut().options.depends_on.push(other.name().to_owned());
        self
    }

    /// Refuses plans that would delete or replace this resource.
    fn protect(mut self) -> Self {
        self.parts_mut().options.protect = true;
        self
    }

    /// Replaces by deleting first, even when the type could create first.
    fn delete_before_replace(mut self) -> Self {
        self.parts_mut().options.delete_before_replace = true;
        self
    }

    /// Ignores later changes to `property`.
    fn ignore_changes(mut self, property: &str) -> Self {
        self.parts_mut().options.ignore_changes.push(property.to_owned());
        self
    }

    /// Replaces the resource when `property` changes.
    fn replace_on_changes(mut self, property: &str) -> Self {
        self.parts_mut().options.replace_on_changes.push(property.to_owned());
        self
    }

    /// Waives policy rule `rule` for this resource; the plan prints `reason`.
    fn waive(mut self, rule: &str, reason: &str) -> Self {
        let waiver = Waiver { rule: rule.to_owned(), reason: reason.to_owned() };
        self.parts_mut().options.waivers.push(waiver);
        self
    }

    /// Adds tags to the stack's default tags for this resource.
    fn tags(mut self, tags: BTreeMap<String, String>) -> Self {
        let input = Input::from(tags);
        self.parts_mut().inputs.insert(TAGS.to_owned(), input);
        self
    }
}

/// A declared resource of type `T`. It dereferences to the type's output accessors, so
/// `vpc.id()` is the declared VPC's id.
#[derive(Debug)]
pub struct Resource<T: Declare> {
    name: String,
    outputs: T::Outputs,
}

impl<T: Declare> Clone for Resource<T>
where
    T::Outputs: Clone,
{
    fn clone(&self) -> Self {
        Resource { name: self.name.clone(), outputs: self.outputs.clone() }
    }
}

impl<T: Declare> Resource<T> {
    /// The resource's logical name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<T: Declare> std::ops::Deref for Resource<T> {
    type Target = T::Outputs;

    fn deref(&self) -> &T::Outputs {
        &self.outputs
    }
}

/// The name of a declared resource, from which typed outputs are read.
#[derive(Clone, Debug)]
pub struct OutputsOf {
    name: String,
}

impl OutputsOf {
    /// The output (or input) `output` of the resource, typed as `V`.
    pub fn output<V>(&self, output: &str) -> Output<V> {
        let reference = OutputRef { resource: self.name.clone(), output: output.to_owned() };
        Output { reference, kind: PhantomData }
    }
}

/// A value another resource produces: known after that resource is applied.
#[derive(Debug)]
pub struct Output<V> {
    reference: OutputRef,
    kind: PhantomData<V>,
}

impl<V> Clone for Output<V> {
    fn clone(&self) -> Self {
        Output { reference: self.reference.clone(), kind: PhantomData }
    }
}

impl<V> Output<V> {
    /// The reference this output stands for.
    pub fn reference(&self) -> &OutputRef {
        &self.reference
    }
}

impl<V> From<Output<V>> for Input {
    fn from(output: Output<V>) -> Self {
        Input::Ref(output.reference)
    }
}

impl<V> From<&Output<V>> for Input {
    fn from(output: &Output<V>) -> Self {
        Input::Ref(output.reference.clone())
    }
}

/// A value accepted for an input of type `T`: a literal of that type or an output of it.
pub trait IntoInput<T> {
    /// The engine's input value.
    fn into_input(self) -> Input;
}

impl<T> IntoInput<T> for Input {
    fn into_input(self) -> Input {
        self
    }
}

impl<T> IntoInput<T> for Output<T> {
    fn into_input(self) -> Input {
        self.into()
    }
}

impl<T> IntoInput<T> for &Output<T> {
    fn into_input(self) -> Input {
        self.into()
    }
}

macro_rules! literal_inputs {
    ($target:ty: $($source:ty),+) => {
        $(impl IntoInput<$target> for $source {
            fn into_input(self) -> Input {
                Input::from(self)
            }
        })+
    };
}

literal_inputs!(String: &str, String, &String);
literal_inputs!(bool: bool);
literal_inputs!(i64: i64, i32, u16, u32);
literal_inputs!(Vec<String>: Vec<&str>, Vec<String>, Vec<Output<String>>, Vec<Input>);
literal_inputs!(BTreeMap<String, String>: BTreeMap<String, String>);
literal_inputs!(Value: Value);

/// String interpolation over outputs: `interpolate(["arn:aws:s3:::", bucket.id()])`.
pub fn interpolate<I: Into<Input>>(parts: impl IntoIterator<Item = I>) -> Input {
    Input::Concat(parts.into_iter().map(Into::into).collect())
}

/// A JSON document built from inputs (policies, dashboards), sent as a string.
pub fn json_document(document: impl Into<Input>) -> Input {
    Input::Json(Box::new(document.into()))
}

/// An object input whose values may be outputs.
pub fn object<K: Into<String>, I: Into<Input>>(entries: impl IntoIterator<Item = (K, I)>) -> Input {
    let entries: BTreeMap<String, Input> =
        entries.into_iter().map(|(key, value)| (key.into(), value.into())).collect();
    Input::from(entries)
}

/// A list input whose items may be outputs.
pub fn list<I: Into<Input>>(items: impl IntoIterator<Item = I>) -> Input {
    Input::from(items.into_iter().map(Into::into).collect::<Vec<Input>>())
}

/// A sensitive input: redacted in plans, logs and output, encrypted in state.
pub fn secret(value: impl Into<Input>) -> Input {
    Input::Secret(Box::new(value.into()))
}
