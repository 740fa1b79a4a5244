//! The `resource!` macro: one typed resource declaration in a few lines.

/// Declares a typed resource: its argument struct with one builder method per input, its
/// schema (type token, force-new inputs, outputs, replacement order, tagging, validation),
/// the struct of its resolved arguments a provider deserializes, and a struct of typed output accessors that [`Resource`](crate::Resource) dereferences to,
/// so `vpc.id()` reads the declared VPC's id.
///
/// ```
/// use cairn_dsl::{resource, Declare};
///
/// resource! {
///     /// A thing with a size.
///     Widget(WidgetArgs, WidgetOutputs) "example:widgets/Widget" {
///         taggable: false,
///         create_before_delete: true,
///         validate: cairn_engine::Schema::no_validation,
///         inputs {
///             /// Its size; changing it makes a new widget.
///             size: i64 [force_new],
///             /// Its label.
///             label: String [name],
///         }
///         outputs {
///             /// Its id.
///             id: String,
///         }
///     }
/// }
///
/// let stack = cairn_dsl::Stack::new("demo");
/// let place = stack.provider(cairn_engine::ProviderBinding {
///     name: "main".into(), account_id: "000000000000".into(), region: "local".into(),
///     settings: serde_json::Value::Null,
/// });
/// let widget = place.add(Widget::new("w").size(3).label("three"));
/// let _id: cairn_dsl::Output<String> = widget.id();
/// assert!(Widget::schema().forces_replacement("size"));
/// assert_eq!(Widget::schema().name_properties().collect::<Vec<_>>(), ["label"]);
/// ```
#[macro_export]
macro_rules! resource {
    (
        $(#[doc = $doc:literal])*
        $type:ident($args:ident, $outputs:ident) $token:literal {
            taggable: $taggable:literal,
            create_before_delete: $create_first:literal,
            $(data_source: $data_source:literal,)?
            validate: $validate:path,
            inputs {
                $(
                    $(#[doc = $input_doc:literal])*
                    $input:ident : $input_type:ty $([$($flag:ident),+])?
                ),* $(,)?
            }
            outputs {
                $(
                    $(#[doc = $output_doc:literal])*
                    $output:ident : $output_type:ty
                ),* $(,)?
            }
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug)]
        pub struct $type($crate::Parts);

        impl $type {
            /// The schema the engine plans this type with.
            pub const SCHEMA: $crate::__private::Schema = $crate::__private::Schema {
                type_token: $token,
                properties: &[
                    $($crate::__private::PropertySpec {
                        name: stringify!($input),
                        force_new: $crate::__has_flag!(force_new; $($($flag)+)?),
                        is_name: $crate::__has_flag!(name; $($($flag)+)?),
                    },)*
                ],
                outputs: &[$(stringify!($output)),*],
                create_before_delete: $create_first,
                taggable: $taggable,
                data_source: $crate::__data_source!($($data_source)?),
                validate: {
                    fn validate(
                        view: &$crate::__private::ResourceView<'_>,
                    ) -> Vec<$crate::__private::InputIssue> {
                        let mut found = $validate(view);
                        $(
                            if $crate::__has_flag!(exclusive; $($($flag)+)?) {
                                found.extend($crate::__private::exclusive_issue(view, stringify!($input)));
                            }
                        )*
                        if $taggable {
                            found.extend($crate::__private::tag_issues(view));
                        }
                        found
                    }
                    validate
                },
            };

            /// A declaration called `name` (unique in the stack).
            pub fn new(name: impl Into<String>) -> Self {
                #[allow(unused_mut)]
                let mut parts = $crate::Parts::named(name);
                $(
                    if $crate::__has_flag!(exclusive; $($($flag)+)?) {
                        parts.inputs.insert(stringify!($input).to_owned(), $crate::__private::empty_list());
                    }
                )*
                $type(parts)
            }

            $(
                $(#[doc = $input_doc])*
                pub fn $input(mut self, value: impl $crate::IntoInput<$input_type>) -> Self {
                    self.0.inputs.insert(stringify!($input).to_owned(), value.into_input());
                    self
                }
            )*
        }

        #[doc = concat!("The inputs of a [`", stringify!($type), "`] once resolved: what a provider reads.")]
        #[derive(Clone, Debug, Default, PartialEq, $crate::__private::Deserialize)]
        #[serde(crate = "cairn_dsl::__private::serde", deny_unknown_fields)]
        pub struct $args {
            $(
                $(#[doc = $input_doc])*
                #[serde(default)]
                pub $input: Option<$input_type>,
            )*
            /// The resource's tags (the stack's and its own), for taggable types.
            #[serde(default)]
            pub tags: Option<std::collections::BTreeMap<String, String>>,
        }

        #[doc = concat!("The outputs of a declared [`", stringify!($type), "`].")]
        #[derive(Clone, Debug)]
        pub struct $outputs($crate::OutputsOf);

        impl From<$crate::OutputsOf> for $outputs {
            fn from(name: $crate::OutputsOf) -> Self {
                $outputs(name)
            }
        }

        impl $outputs {
            $(
                $(#[doc = $output_doc])*
                pub fn $output(&self) -> $crate::Output<$output_type> {
                    self.0.output(stringify!($output))
                }
            )*
        }

        impl $crate::Declare for $type {
            type Outputs = $outputs;

            fn schema() -> &'static $crate::__private::Schema {
                &Self::SCHEMA
            }

            fn parts_mut(&mut self) -> &mut $crate::Parts {
                &mut self.0
            }

            fn into_parts(self) -> $crate::Parts {
                self.0
            }
        }
    };
}

/// Whether the flags of an input include `force_new` or `name`.
#[doc(hidden)]
#[macro_export]
macro_rules! __has_flag {
    (force_new; force_new $($rest:ident)*) => { true };
    (name; name $($rest:ident)*) => { true };
    (exclusive; exclusive $($rest:ident)*) => { true };
    ($wanted:ident; $other:ident $($rest:ident)*) => { $crate::__has_flag!($wanted; $($rest)*) };
    ($wanted:ident;) => { false };
}

/// Whether a type is a data source (false unless said).
#[doc(hidden)]
#[macro_export]
macro_rules! __data_source {
    () => {
        false
    };
    ($value:literal) => {
        $value
    };
}
