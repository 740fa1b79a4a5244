//! SDK errors as provider errors, and the engine-level retries for eventual consistency.

use std::future::Future;
use std::time::Duration;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use cairn_engine::ProviderError;

/// The result type of provider internals.
pub type Result<T, E = AwsError> = std::result::Result<T, E>;

/// A failed AWS call, with its error code kept for retry decisions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsError {
    /// The AWS error code (`InvalidVpcID.NotFound`), empty when there is none.
    pub code: String,
    /// What was being done and what AWS said.
    pub message: String,
}

impl AwsError {
    /// An error of ours, with no AWS code.
    pub fn new(message: impl Into<String>) -> Self {
        AwsError { code: String::new(), message: message.into() }
    }

    /// Whether the error says the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        is_not_found_code(&self.code)
    }
}

impl From<AwsError> for ProviderError {
    fn from(error: AwsError) -> Self {
        let not_found = error.is_not_found();
        ProviderError { message: error.message, not_found }
    }
}

/// An SDK error with what was being done, the AWS error code and message.
pub fn sdk_error<E, R>(doing: &str, error: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let code = error.code().unwrap_or_default().to_owned();
    let message = match (&error, error.message()) {
        (SdkError::ServiceError(_), Some(message)) => format!("{code}: {message}"),
        (SdkError::ServiceError(_), None) if !code.is_empty() => code.clone(),
        (SdkError::DispatchFailure(_) | SdkError::TimeoutError(_), _) => format!(
            "cannot reach the AWS endpoint ({}): check the network, or that the emulator \
             is running",
            aws_smithy_types::error::display::DisplayErrorContext(&error)
        ),
        _ => format!("{}", aws_smithy_types::error::display::DisplayErrorContext(&error)),
    };
    AwsError { code, message: format!("{doing}: {message}") }
}

/// Whether an AWS error code says the thing asked about does not exist.
pub fn is_not_found_code(code: &str) -> bool {
    code.ends_with(".NotFound")
        || code.ends_with("NotFound")
        || code.starts_with("NoSuch")
        || code == "ResourceNotFoundException"
        || code == "NotFoundException"
}

/// Codes that mean "not yet" for a call that refers to other resources: one created a
/// moment ago that this endpoint has not seen yet.
pub fn referenced_not_yet_visible(code: &str) -> bool {
    code.ends_with(".NotFound") || code.ends_with(".Malformed")
}

/// Codes that mean an IAM role or policy has not propagated yet.
pub fn iam_not_yet_propagated(code: &str) -> bool {
    matches!(
        code,
        "MalformedPolicyDocument"
            | "InvalidParameterValue"
            | "InsufficientDeliveryPolicyException"
            | "InvalidRoleException"
            | "AccessDenied"
            | "AccessDeniedException"
    ) || referenced_not_yet_visible(code)
}

/// Codes that mean the thing is still in use by something being deleted at the same time.
pub fn still_in_use(code: &str) -> bool {
    matches!(code, "DependencyViolation" | "ResourceInUse" | "InvalidNetworkAclID.InUse")
}

/// How long the engine keeps retrying a call that failed for eventual consistency.
#[derive(Clone, Copy, Debug)]
pub struct RetryBudget {
    /// The most attempts in all.
    pub attempts: u32,
    /// The first pause; each next one doubles, up to `max_pause`.
    pub first_pause: Duration,
    /// The longest pause.
    pub max_pause: Duration,
}

/// The default budget: 8 attempts, at most about a minute in all.
pub const CONSISTENCY_RETRIES: RetryBudget = RetryBudget {
    attempts: 8,
    first_pause: Duration::from_millis(250),
    max_pause: Duration::from_secs(16),
};

/// Runs `call` and retries it, within `budget`, while it fails with a code `retry_on`
/// accepts. Every retry is logged.
pub async fn retry_consistency<T, F, Fut>(
    what: &str,
    budget: RetryBudget,
    retry_on: fn(&str) -> bool,
    mut call: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut pause = budget.first_pause;
    let mut attempt = 1;
    loop {
        match call().await {
            Err(error) if attempt < budget.attempts && retry_on(&error.code) => {
                tracing::info!(
                    "{what}: {} (attempt {attempt} of {}); retrying in {pause:?}",
                    error.message,
                    budget.attempts
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(budget.max_pause);
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Polls `check` until it says done, at most `timeout`, pausing `every` between polls.
pub async fn wait_until<F, Fut>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut check: F,
) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let polls = (timeout.as_millis() / every.as_millis().max(1)).max(1);
    for _ in 0..polls {
        if check().await? {
            return Ok(());
        }
        tokio::time::sleep(every).await;
    }
    Err(AwsError::new(format!(
        "timed out after {timeout:?} waiting for {what}: check its state in the AWS console and \
         run apply again"
    )))
}

/// An input the resource needs but the request lacks.
pub fn missing(type_token: &str, property: &str) -> AwsError {
    AwsError::new(format!("{type_token} needs `{property}`: set it in the program"))
}
