//! Amazon EC2 networking resources.

mod endpoints;
mod flow_logs;
mod gateways;
mod peering;
mod routing;
mod security;
mod vpc;

pub use endpoints::*;
pub use flow_logs::*;
pub use gateways::*;
pub use peering::*;
pub use routing::*;
pub use security::*;
pub use vpc::*;
