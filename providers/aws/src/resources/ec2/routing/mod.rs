//! `aws:ec2/Subnet`, `RouteTable`, `RouteTableAssociation` and `Route`, and the helpers the
//! routing, gateway and endpoint handlers share: required answer fields, "gone" as a value,
//! and waiting for a state.

mod route;
mod route_table;
mod subnet;

use std::future::Future;
use std::time::Duration;

use cairn_engine::{Outputs, RecordedResource};

use crate::errors::{AwsError, Result, wait_until};
use crate::resources::Handler;

/// The handler of a type token of this module.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    match type_token {
        "aws:ec2/Subnet" => Some(&subnet::SubnetHandler),
        "aws:ec2/RouteTable" => Some(&route_table::RouteTableHandler),
        "aws:ec2/RouteTableAssociation" => Some(&route_table::AssociationHandler),
        "aws:ec2/Route" => Some(&route::RouteHandler),
        _ => None,
    }
}

/// A field AWS must have answered with; its absence is an error naming it.
pub fn required<T>(value: Option<T>, what: &str) -> Result<T> {
    value.ok_or_else(|| {
        AwsError::new(format!("AWS answered without {what}: the API changed; report this as a bug"))
    })
}

/// The recorded outputs, for updates that change none of them.
pub fn prior_outputs(prior: &RecordedResource) -> Result<Outputs> {
    let outputs = prior.outputs.as_object().filter(|outputs| outputs.contains_key("id"));
    outputs.cloned().ok_or_else(|| {
        AwsError::new(
            "the state records no outputs for this resource: remove it from the state and \
             import it again",
        )
    })
}

/// The result of a call about one resource, `Ok(None)` when AWS says it does not exist:
/// reads report it gone and deletes count it done.
pub fn unless_gone<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
    }
}

/// How long to wait for an asynchronous state, and how often to look. The first look is
/// immediate, so a state that is reached at once (as in the emulator) costs no pause.
#[derive(Clone, Copy, Debug)]
pub struct Patience {
    /// The longest wait.
    pub timeout: Duration,
    /// The pause between looks.
    pub every: Duration,
}

/// Waits until `state` reports `wanted`: a state in lower case, or `None` for gone.
pub async fn wait_for_state<F, Fut>(
    what: &str,
    patience: Patience,
    wanted: Option<&str>,
    mut state: F,
) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<String>>>,
{
    wait_until(what, patience.timeout, patience.every, || {
        let now = state();
        async move { Ok(now.await?.as_deref() == wanted) }
    })
    .await
}
