//! Typed resource declarations that cairn programs are written in.
//!
//! A program fills a [`Stack`]: it registers provider bindings (an account in a region) and
//! adds typed declarations to them. Inputs take literals or other resources' outputs; every
//! output read is an edge of the dependency graph.
//!
//! ```
//! use cairn_dsl::aws::ec2::{Subnet, Vpc};
//! use cairn_dsl::Stack;
//! use cairn_engine::ProviderBinding;
//!
//! let stack = Stack::new("example");
//! let trading = stack.provider(ProviderBinding {
//!     name: "trading".into(),
//!     account_id: "000000000000".into(),
//!     region: "local-1".into(),
//!     settings: serde_json::Value::Null,
//! });
//! let vpc = trading.add(Vpc::new("vpc").cidr_block("10.0.0.0/16").enable_dns_support(true));
//! trading.add(Subnet::new("subnet-a").vpc_id(vpc.id()).cidr_block("10.0.1.0/24"));
//! stack.export("VpcId", vpc.id());
//! assert_eq!(stack.spec().resources.len(), 2);
//! ```

// Lets the `resource!` macro name this crate the same way inside and outside it.
extern crate self as cairn_dsl;

pub mod aws;
mod checks;
mod macros;
pub mod policy;
mod stack;
mod tags;
mod template;

pub use stack::{
    Binding, Declare, IntoInput, Output, OutputsOf, Parts, Resource, Stack, TAGS, interpolate,
    json_document, list, object, secret,
};
pub use template::json_template;

/// Tags from string pairs, for [`Declare::tags`].
pub fn tags<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> std::collections::BTreeMap<String, String> {
    pairs.into_iter().map(|(key, value)| (key.to_owned(), value.to_owned())).collect()
}

/// What the `resource!` macro expands to; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::tags::tag_issues;
    pub use cairn_engine::{InputIssue, PropertySpec, ResourceView, Schema};
    pub use serde::{self, Deserialize};

    /// The declared value of an `exclusive` property: nothing besides what the program
    /// declares, so that whatever the cloud reports in it shows as drift.
    pub fn empty_list() -> cairn_engine::Input {
        cairn_engine::Input::Literal(serde_json::Value::Array(Vec::new()))
    }

    /// The issue of an `exclusive` property the program set to something else than empty:
    /// cairn reads it back and removes what it lists, so a declared value would never hold.
    pub fn exclusive_issue(view: &ResourceView<'_>, property: &str) -> Option<InputIssue> {
        let input = view.input(property)?;
        let empty =
            input.as_literal().and_then(serde_json::Value::as_array).is_some_and(Vec::is_empty);
        (!empty).then(|| {
            InputIssue::new(
                property,
                "is set by the program",
                "leave it unset: it lists what no resource of the stack declares, which apply removes",
            )
        })
    }
}
