//! AWS Config recorder, delivery channel, status and rules.
//!
//! None of them but rules can be tagged: their names are their identity. An account has at
//! most one recorder and one delivery channel per region.

mod delivery_channel;
mod recorder;
mod rule;

use crate::errors::iam_not_yet_propagated;
use crate::resources::Handler;

/// The handler of a type token of this module.
pub fn handler(type_token: &str) -> Option<&'static dyn Handler> {
    match type_token {
        "aws:config/ConfigurationRecorder" => Some(&recorder::RecorderHandler),
        "aws:config/RecorderStatus" => Some(&recorder::RecorderStatusHandler),
        "aws:config/DeliveryChannel" => Some(&delivery_channel::DeliveryChannelHandler),
        "aws:config/ConfigRule" => Some(&rule::ConfigRuleHandler),
        _ => None,
    }
}

/// Codes that mean something a Config call refers to and that was created a moment ago (the
/// recorder, the delivery channel, its bucket and bucket policy, the recorder's role) is not
/// visible to AWS Config yet: Config's own "no recorder or channel yet" codes, and the common
/// ones (which cover `NoSuchConfigurationRecorderException` and `NoSuchBucketException`).
fn config_not_yet_ready(code: &str) -> bool {
    matches!(
        code,
        "NoAvailableConfigurationRecorderException" | "NoAvailableDeliveryChannelException"
    ) || iam_not_yet_propagated(code)
}
