//! Input checks shared by the resource types' validators.

use std::ops::RangeInclusive;

use cairn_engine::{Input, InputIssue, ResourceView};
use ipnet::Ipv4Net;
use serde_json::Value;

/// The prefix lengths AWS accepts for VPC and subnet CIDR blocks.
pub const VPC_PREFIX_RANGE: std::ops::RangeInclusive<u8> = 16..=28;

/// Parses the literal IPv4 CIDR in `property`; `Ok(None)` when it is not a literal.
pub fn literal_cidr(
    view: &ResourceView<'_>,
    property: &str,
) -> Result<Option<Ipv4Net>, InputIssue> {
    let Some(text) = view.literal_str(property) else { return Ok(None) };
    parse_cidr(property, text).map(Some)
}

/// Parses `text` as an IPv4 network in CIDR notation whose address is the network address.
pub fn parse_cidr(property: &str, text: &str) -> Result<Ipv4Net, InputIssue> {
    let network: Ipv4Net = text.parse().map_err(|_| {
        InputIssue::new(
            property,
            format!("`{text}` is not an IPv4 CIDR block"),
            "write it as address/prefix, for example 10.0.0.0/16",
        )
    })?;
    if network.network() != network.addr() {
        return Err(InputIssue::new(
            property,
            format!("`{text}` has host bits set"),
            format!("use the network address: {}", network.trunc()),
        ));
    }
    Ok(network)
}

/// An issue when the literal IPv4 CIDR in `property` does not parse.
pub(crate) fn cidr_issue(view: &ResourceView<'_>, property: &str) -> Option<InputIssue> {
    literal_cidr(view, property).err()
}

/// Checks a VPC or subnet CIDR's prefix length.
pub fn check_prefix(property: &str, network: Ipv4Net) -> Option<InputIssue> {
    (!VPC_PREFIX_RANGE.contains(&network.prefix_len())).then(|| {
        InputIssue::new(
            property,
            format!("`{network}` has a /{} prefix", network.prefix_len()),
            format!(
                "AWS accepts /{} to /{} here",
                VPC_PREFIX_RANGE.start(),
                VPC_PREFIX_RANGE.end()
            ),
        )
    })
}

/// Collects the issues of a list of checks.
pub fn issues(checks: impl IntoIterator<Item = Option<InputIssue>>) -> Vec<InputIssue> {
    checks.into_iter().flatten().collect()
}

/// An issue for each of `properties` the resource does not set.
pub(crate) fn required(view: &ResourceView<'_>, properties: &[&str]) -> Vec<InputIssue> {
    properties
        .iter()
        .filter(|property| view.input(property).is_none())
        .map(|property| {
            InputIssue::new(*property, "it is not set", format!("set `{property}`: AWS needs it"))
        })
        .collect()
}

/// An issue when the literal string `property` is not one of `allowed`.
pub(crate) fn one_of(
    view: &ResourceView<'_>,
    property: &str,
    allowed: &[&str],
) -> Option<InputIssue> {
    let value = view.literal_str(property)?;
    (!allowed.contains(&value)).then(|| {
        InputIssue::new(
            property,
            format!("`{value}` is not a value AWS accepts here"),
            format!("use one of {}", allowed.join(", ")),
        )
    })
}

/// The literal integer `property`, if it is one.
pub(crate) fn literal_i64(view: &ResourceView<'_>, property: &str) -> Option<i64> {
    view.input(property).and_then(Input::as_literal).and_then(Value::as_i64)
}

/// An issue when the literal integer `property` is outside `range`.
pub(crate) fn check_range(
    view: &ResourceView<'_>,
    property: &str,
    range: RangeInclusive<i64>,
) -> Option<InputIssue> {
    let number = literal_i64(view, property)?;
    (!range.contains(&number)).then(|| {
        InputIssue::new(
            property,
            format!("`{property}` is {number}"),
            format!("AWS accepts {} to {}", range.start(), range.end()),
        )
    })
}

/// An issue when the literal `property` is not a number.
pub(crate) fn number(view: &ResourceView<'_>, property: &str) -> Option<InputIssue> {
    let value = view.input(property).and_then(Input::as_literal)?;
    (!value.is_number()).then(|| {
        InputIssue::new(
            property,
            format!("`{value}` is not a number"),
            "give a number, for example json!(1) or json!(0.5)",
        )
    })
}

/// An issue when the literal string `property` (a policy, a dashboard body, parameters) is
/// not a JSON object.
pub(crate) fn json_object_text(view: &ResourceView<'_>, property: &str) -> Option<InputIssue> {
    let text = view.literal_str(property)?;
    let problem = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(_)) => return None,
        Ok(_) => "the JSON document is not an object".to_owned(),
        Err(error) => format!("it is not valid JSON ({error})"),
    };
    Some(InputIssue::new(property, problem, "give a JSON object, for example with `json_document`"))
}

/// The resources declared before this one, of the same type, whose `property` refers to the
/// same resource as this one's: its earlier siblings (subnets of one VPC, entries of one ACL).
pub(crate) fn earlier_siblings<'a>(
    view: &ResourceView<'a>,
    property: &str,
) -> impl Iterator<Item = &'a cairn_engine::Resource> + 'a {
    let this = view.resource;
    let parent = this.reference(property).map(|reference| reference.resource.clone());
    let property = property.to_owned();
    view.stack
        .resources
        .iter()
        .take_while(move |other| !std::ptr::eq(*other, this))
        .filter(move |other| other.schema.type_token == this.schema.type_token)
        .filter(move |other| {
            parent.is_some()
                && other.reference(&property).map(|reference| &reference.resource)
                    == parent.as_ref()
        })
}

/// What the validators say about a declaration, for their tests.
#[cfg(test)]
pub(crate) mod testing {
    use cairn_engine::{ProviderBinding, ResourceView};

    use crate::{Declare, Stack};

    /// The properties `declaration`'s validator finds fault with, in order.
    pub(crate) fn faults<T: Declare>(declaration: T) -> Vec<String> {
        let stack = Stack::new("checks");
        let place = stack.provider(ProviderBinding {
            name: "main".into(),
            account_id: "000000000000".into(),
            region: "local-1".into(),
            settings: serde_json::Value::Null,
        });
        place.add(declaration);
        let spec = stack.spec();
        let view = ResourceView { resource: &spec.resources[0], stack: &spec };
        (T::schema().validate)(&view).into_iter().map(|issue| issue.property).collect()
    }
}
