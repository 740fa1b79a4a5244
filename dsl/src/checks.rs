//! Input checks shared by the resource types' validators.

use cairn_engine::{InputIssue, ResourceView};
use ipnet::Ipv4Net;

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
