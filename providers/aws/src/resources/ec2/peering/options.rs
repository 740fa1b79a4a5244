//! `aws:ec2/VpcPeeringConnectionOptions`: one side's options.

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    PeeringConnectionOptionsRequest, VpcPeeringConnection, VpcPeeringConnectionVpcInfo,
};
use cairn_dsl::aws::ec2::VpcPeeringConnectionOptionsArgs;
use cairn_engine::{Observed, Outputs, RecordedResource};
use serde_json::json;

use super::live_connection;
use crate::errors::{
    AwsError, CONSISTENCY_RETRIES, Result, done_when_gone, referenced_not_yet_visible, required,
    retry_consistency, sdk_error,
};
use crate::resources::{Context, Handler, id_outputs, observed_inputs};

/// Sets one side's options of active peering connections; turns them off on delete.
pub struct OptionsHandler;

const OPTIONS: &str = "aws:ec2/VpcPeeringConnectionOptions";

/// The side of a connection an options resource sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Requester,
    Accepter,
}

/// The connection and side an options resource is about.
struct OptionsTarget<'a> {
    connection: &'a str,
    side: Side,
}

impl<'a> OptionsTarget<'a> {
    fn of(args: &'a VpcPeeringConnectionOptionsArgs) -> Result<Self> {
        let side = match required(args.side.as_deref(), OPTIONS, "side")? {
            "requester" => Side::Requester,
            "accepter" => Side::Accepter,
            other => {
                return Err(AwsError::new(format!(
                    "{OPTIONS} has side `{other}`: use `requester` or `accepter`"
                )));
            }
        };
        let connection = required(
            args.vpc_peering_connection_id.as_deref(),
            OPTIONS,
            "vpc_peering_connection_id",
        )?;
        Ok(OptionsTarget { connection, side })
    }

    /// `<connection>:<side>`.
    fn id(&self) -> String {
        let side = match self.side {
            Side::Requester => "requester",
            Side::Accepter => "accepter",
        };
        format!("{}:{side}", self.connection)
    }

    /// This side's DNS option on `connection`.
    fn dns_resolution(&self, connection: &VpcPeeringConnection) -> Option<bool> {
        let info: Option<&VpcPeeringConnectionVpcInfo> = match self.side {
            Side::Requester => connection.requester_vpc_info(),
            Side::Accepter => connection.accepter_vpc_info(),
        };
        info?.peering_options()?.allow_dns_resolution_from_remote_vpc()
    }

    /// Sets this side's DNS option.
    async fn set_dns_resolution(&self, cx: &Context<'_>, allow: bool) -> Result<()> {
        let options = PeeringConnectionOptionsRequest::builder()
            .allow_dns_resolution_from_remote_vpc(allow)
            .build();
        retry_consistency(
            "setting peering connection options",
            CONSISTENCY_RETRIES,
            referenced_not_yet_visible,
            || async {
                let call = cx
                    .clients
                    .ec2
                    .modify_vpc_peering_connection_options()
                    .vpc_peering_connection_id(self.connection);
                let call = match self.side {
                    Side::Requester => call.requester_peering_connection_options(options.clone()),
                    Side::Accepter => call.accepter_peering_connection_options(options.clone()),
                };
                call.send().await.map_err(|error| {
                    sdk_error(&format!("setting the options of {}", self.id()), error)
                })
            },
        )
        .await
        .map(drop)
    }
}

#[async_trait]
impl Handler for OptionsHandler {
    async fn create(&self, cx: &Context<'_>) -> Result<Outputs> {
        set_options(cx).await
    }

    async fn update(&self, cx: &Context<'_>, _prior: &RecordedResource) -> Result<Outputs> {
        set_options(cx).await
    }

    async fn delete(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<()> {
        let args: VpcPeeringConnectionOptionsArgs = cx.prior_args(prior)?;
        let target = OptionsTarget::of(&args)?;
        if live_connection(&cx.clients.ec2, target.connection).await?.is_none() {
            return Ok(());
        }
        done_when_gone(target.set_dns_resolution(cx, false).await)
    }

    async fn read(&self, cx: &Context<'_>, prior: &RecordedResource) -> Result<Option<Observed>> {
        let args: VpcPeeringConnectionOptionsArgs = cx.prior_args(prior)?;
        let target = OptionsTarget::of(&args)?;
        let Some(connection) = live_connection(&cx.clients.ec2, target.connection).await? else {
            return Ok(None);
        };
        let inputs = observed_inputs([
            ("vpc_peering_connection_id", Some(json!(target.connection))),
            ("side", args.side.as_ref().map(|side| json!(side))),
            (
                "allow_dns_resolution_from_remote_vpc",
                target.dns_resolution(&connection).map(|allow| json!(allow)),
            ),
        ]);
        Ok(Some(Observed { inputs, outputs: id_outputs(&target.id()) }))
    }

    async fn find_owned(&self, cx: &Context<'_>) -> Result<Option<Outputs>> {
        let args: VpcPeeringConnectionOptionsArgs = cx.args()?;
        let target = OptionsTarget::of(&args)?;
        let connection = live_connection(&cx.clients.ec2, target.connection).await?;
        let applied = connection.is_some_and(|connection| {
            target.dns_resolution(&connection)
                == Some(args.allow_dns_resolution_from_remote_vpc.unwrap_or(false))
        });
        Ok(applied.then(|| id_outputs(&target.id())))
    }
}

/// Sets the options the request asks for.
async fn set_options(cx: &Context<'_>) -> Result<Outputs> {
    let args: VpcPeeringConnectionOptionsArgs = cx.args()?;
    let target = OptionsTarget::of(&args)?;
    target
        .set_dns_resolution(cx, args.allow_dns_resolution_from_remote_vpc.unwrap_or(false))
        .await?;
    Ok(id_outputs(&target.id()))
}
