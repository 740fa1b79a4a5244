//! VPC peering: `aws:ec2/VpcPeeringConnection` (requester side),
//! `aws:ec2/VpcPeeringConnectionAccepter` and `aws:ec2/VpcPeeringConnectionOptions`, and
//! what they share: reading a connection and waiting for its status.

mod accepter;
mod connection;
mod options;

use std::time::Duration;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::VpcPeeringConnection;
use cairn_engine::Outputs;
use serde_json::json;

use crate::errors::{AwsError, Patience, Result, sdk_error, unless_gone, wait_until};
use crate::resources::{Handler, outputs};

use accepter::AccepterHandler;
use connection::ConnectionHandler;
use options::OptionsHandler;

/// The handler of a type token of this module.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    match type_token {
        "aws:ec2/VpcPeeringConnection" => Some(&ConnectionHandler),
        "aws:ec2/VpcPeeringConnectionAccepter" => Some(&AccepterHandler),
        "aws:ec2/VpcPeeringConnectionOptions" => Some(&OptionsHandler),
        _ => None,
    }
}

/// Statuses of a connection that no longer exists. moto keeps deleted connections listed
/// with status `deleted`, as AWS does for a while.
const GONE: [&str; 5] = ["deleted", "deleting", "rejected", "failed", "expired"];
/// Statuses a connection passes through on its own.
const TRANSIENT: [&str; 2] = ["initiating-request", "provisioning"];
/// How long to wait for a connection to settle or become active.
const SETTLE_PATIENCE: Patience = Patience::up_to(Duration::from_secs(120), Duration::from_secs(2));

/// Connection `id` as `client` sees it, `None` when it is unknown there.
async fn connection(client: &Client, id: &str) -> Result<Option<VpcPeeringConnection>> {
    let found = client
        .describe_vpc_peering_connections()
        .vpc_peering_connection_ids(id)
        .send()
        .await
        .map_err(|error| sdk_error(&format!("reading peering connection {id}"), error));
    // An unknown id: AWS answers NotFound, moto an empty list.
    Ok(unless_gone(found)?.and_then(|found| found.vpc_peering_connections().first().cloned()))
}

/// Connection `id`, `None` when it is unknown or no longer exists (deleted, rejected, ...).
async fn live_connection(client: &Client, id: &str) -> Result<Option<VpcPeeringConnection>> {
    Ok(connection(client, id).await?.filter(|connection| !GONE.contains(&status_of(connection))))
}

/// A connection's status code.
fn status_of(connection: &VpcPeeringConnection) -> &str {
    connection.status().and_then(|status| status.code()).map_or("", |code| code.as_str())
}

/// Waits until connection `id`'s status is `done` (an unknown connection is not yet done);
/// fails when the connection fails. Returns the status.
async fn wait_for_status(
    client: &Client,
    id: &str,
    what: &str,
    done: fn(&str) -> bool,
) -> Result<String> {
    let seen = std::sync::Mutex::new(String::new());
    wait_until(what, SETTLE_PATIENCE, || async {
        let Some(found) = connection(client, id).await? else { return Ok(false) };
        let status = status_of(&found);
        if GONE.contains(&status) {
            let reason = found.status().and_then(|status| status.message()).unwrap_or_default();
            return Err(AwsError::new(format!("peering connection {id} is {status}: {reason}")));
        }
        *seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = status.to_owned();
        Ok(done(status))
    })
    .await?;
    Ok(seen.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner()))
}

/// Connection `id`'s outputs with its status as AWS has it now.
async fn current_outputs(client: &Client, id: &str) -> Result<Outputs> {
    let found = connection(client, id).await?;
    let status = found.as_ref().map_or("deleted", status_of);
    Ok(connection_outputs(id, status))
}

/// A connection's outputs: id and status.
fn connection_outputs(id: &str, status: &str) -> Outputs {
    outputs([("id", json!(id)), ("status", json!(status))])
}
