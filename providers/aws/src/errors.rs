//! SDK errors as provider errors, and the engine-level retries for eventual consistency.

use std::future::Future;
use std::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;
use cairn_engine::ProviderError;

/// The result type of provider internals.
pub type Result<T, E = AwsError> = std::result::Result<T, E>;

/// A failed AWS call, with its error code kept for retry decisions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsError {
    /// The AWS error code (`InvalidVpcID.NotFound`), empty when there is none.
    pub code: String,
    /// What was being done and what AWS said.
    pub message: String,
    /// Whether the call may have reached AWS and may succeed if sent again: no answer, a 5xx,
    /// or throttling (what the SDK retries).
    pub transient: bool,
}

impl AwsError {
    /// An error of ours, with no AWS code.
    pub fn new(message: impl Into<String>) -> Self {
        AwsError { message: message.into(), ..AwsError::default() }
    }

    /// An error AWS reported with `code` outside an SDK error (in a batch answer).
    pub fn coded(code: impl Into<String>, message: impl Into<String>) -> Self {
        AwsError { code: code.into(), message: message.into(), transient: false }
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

/// An SDK error with what was being done, the AWS error code, message and request id.
pub fn sdk_error<E>(doing: &str, error: SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = error.code().unwrap_or_default().to_owned();
    let message = match (&error, error.message()) {
        (SdkError::ServiceError(_), Some(message)) => format!("{code}: {message}"),
        (SdkError::ServiceError(_), None) if !code.is_empty() => code.clone(),
        (SdkError::ServiceError(failure), None) => format!(
            "AWS answered HTTP {} with a body that is not an AWS error, and went on doing so \
             through every retry: the service, or a proxy in front of it, is failing; retry \
             later, and check the endpoint if it persists",
            failure.raw().status().as_u16()
        ),
        (SdkError::DispatchFailure(_) | SdkError::TimeoutError(_), _) => format!(
            "cannot reach the AWS endpoint ({}): check the network, or that the emulator \
             is running",
            causes(&error)
        ),
        _ => causes(&error),
    };
    let request = error.request_id().or_else(|| error.meta().request_id());
    let message = match request {
        Some(id) => format!("{doing}: {message} (request id {id})"),
        None => format!("{doing}: {message}"),
    };
    let transient = match &error {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(failure) => {
            failure.raw().status().is_server_error() || THROTTLING_CODES.contains(&code.as_str())
        }
        _ => false,
    };
    AwsError { code, message, transient }
}

/// The error codes AWS throttles with.
const THROTTLING_CODES: [&str; 7] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "TooManyRequestsException",
    "SlowDown",
];

/// An error and its causes as one sentence, each said once, joined by `: `: never the
/// `Debug` dump of the SDK's error types that their own context display ends with.
fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut said: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(current) = next {
        let text = current.to_string();
        if !text.is_empty() && !said.iter().any(|earlier| earlier.contains(&text)) {
            said.push(text);
        }
        next = current.source();
    }
    said.join(": ")
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
/// moment ago that this endpoint has not seen yet. EC2 says `<Thing>.NotFound` (or
/// `.Malformed` for an id it does not know the shape of yet); the other services each have
/// their own code: CloudWatch Logs `ResourceNotFoundException`, IAM `NoSuchEntity`, S3
/// `NoSuchBucket`, KMS `NotFoundException`, AWS Config `NoSuchBucketException` and
/// `NoSuchConfigurationRecorderException`.
pub fn referenced_not_yet_visible(code: &str) -> bool {
    code.ends_with(".NotFound")
        || code.ends_with(".Malformed")
        || matches!(
            code,
            "ResourceNotFoundException"
                | "NoSuchEntity"
                | "NoSuchBucket"
                | "NotFoundException"
                | "NoSuchBucketException"
                | "NoSuchConfigurationRecorderException"
        )
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

/// Codes that mean a principal a policy names (an IAM role created a moment ago) is not
/// visible yet: KMS's `MalformedPolicyDocumentException`, and the common IAM codes.
pub fn principal_not_yet_visible(code: &str) -> bool {
    code == "MalformedPolicyDocumentException" || iam_not_yet_propagated(code)
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

/// How long to wait for an asynchronous state, and how often to look: the first look is
/// immediate (a state reached at once, as in the emulator, costs no pause), then the pause
/// doubles from `first_pause` up to `max_pause`, until the pauses add up to `timeout`.
#[derive(Clone, Copy, Debug)]
pub struct Patience {
    /// The longest wait, all pauses together.
    pub timeout: Duration,
    /// The first pause.
    pub first_pause: Duration,
    /// The longest pause.
    pub max_pause: Duration,
}

impl Patience {
    /// Waits up to `timeout`, the pause doubling from a quarter of a second to `max_pause`.
    pub const fn up_to(timeout: Duration, max_pause: Duration) -> Self {
        Patience { timeout, first_pause: Duration::from_millis(250), max_pause }
    }
}

/// Polls `check` until it says done, within `patience`.
pub async fn wait_until<F, Fut>(what: &str, patience: Patience, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let mut waited = Duration::ZERO;
    let mut pause = patience.first_pause;
    while !check().await? {
        if waited >= patience.timeout {
            return Err(AwsError::new(format!(
                "timed out after {:?} waiting for {what}: check its state in the AWS console \
                 and run apply again",
                patience.timeout
            )));
        }
        let next = pause.min(patience.timeout - waited);
        tokio::time::sleep(next).await;
        waited += next;
        pause = (pause * 2).min(patience.max_pause);
    }
    Ok(())
}

/// An input the resource needs but the request lacks.
pub fn missing(type_token: &str, property: &str) -> AwsError {
    AwsError::new(format!("{type_token} needs `{property}`: set it in the program"))
}

/// The input `property` of a `type_token`, or the error that says the program must set it.
/// Pass strings as `args.name.as_deref()`.
pub fn required<T>(value: Option<T>, type_token: &str, property: &str) -> Result<T> {
    value.ok_or_else(|| missing(type_token, property))
}

/// An integer input as the `i32` the SDK takes.
pub fn int32(number: i64, type_token: &str, property: &str) -> Result<i32> {
    i32::try_from(number).map_err(|_| {
        AwsError::new(format!("{type_token}: `{property}` = {number} is out of range"))
    })
}

/// A field AWS must have answered with; its absence is an error naming `what`.
pub fn answered<T>(value: Option<T>, what: &str) -> Result<T> {
    value.ok_or_else(|| {
        AwsError::new(format!("AWS answered without {what}: the API changed; report this as a bug"))
    })
}

/// A value an SDK builder made, or an error naming `what` it was making.
pub fn built<T, E: std::fmt::Display>(result: std::result::Result<T, E>, what: &str) -> Result<T> {
    result.map_err(|error| AwsError::new(format!("cannot make {what}: {error}")))
}

/// The result of a call about one resource, `Ok(None)` when AWS says it does not exist:
/// reads report it gone.
pub fn unless_gone<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
    }
}

/// Success when the call (a delete) failed because the resource is already gone.
pub fn done_when_gone<T>(result: Result<T>) -> Result<()> {
    unless_gone(result).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_sdk_error_reads_as_a_sentence_with_its_causes_not_a_debug_dump() {
        let cause = std::io::Error::other("connection refused");
        let error: SdkError<
            aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError,
            HttpResponse,
        > = SdkError::construction_failure(cause);
        let described = sdk_error("creating the VPC", error);
        assert!(described.message.starts_with("creating the VPC: "), "{}", described.message);
        assert!(described.message.contains("connection refused"), "{}", described.message);
        assert!(!described.message.contains('{'), "no Debug dump: {}", described.message);
    }

    #[test]
    fn a_5xx_whose_body_is_not_an_aws_error_says_so_with_its_status_and_request_id() {
        use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError;
        use aws_smithy_types::body::SdkBody;
        use aws_smithy_types::error::ErrorMetadata;
        let mut raw = HttpResponse::new(
            503.try_into().expect("a status"),
            SdkBody::from("<html><h1>503 Service Temporarily Unavailable</h1></html>"),
        );
        raw.headers_mut().insert("x-amzn-requestid", "req-4711");
        let failure = GetCallerIdentityError::generic(ErrorMetadata::builder().build());
        let described =
            sdk_error("checking the credentials", SdkError::service_error(failure, raw));
        assert!(
            described.message.starts_with(
                "checking the credentials: AWS answered HTTP 503 with a \
             body that is not an AWS error"
            ),
            "{}",
            described.message
        );
        assert!(described.message.ends_with("(request id req-4711)"), "{}", described.message);
        assert!(!described.message.contains("unhandled"), "{}", described.message);
    }

    const QUICK: Patience = Patience {
        timeout: Duration::from_millis(30),
        first_pause: Duration::from_millis(2),
        max_pause: Duration::from_millis(8),
    };

    #[tokio::test]
    async fn a_state_reached_at_once_costs_one_look() {
        let mut looks = 0;
        let waited = wait_until("it", QUICK, || {
            looks += 1;
            async { Ok(true) }
        })
        .await;
        assert_eq!((waited, looks), (Ok(()), 1));
    }

    #[tokio::test]
    async fn waiting_doubles_its_pause_and_gives_up_in_time() {
        let mut looks = 0;
        let waited = wait_until("it", QUICK, || {
            looks += 1;
            async { Ok(false) }
        })
        .await;
        // Pauses of 2, 4, 8, 8, 8 ms make 30 ms: six looks, the last after the timeout.
        assert_eq!(looks, 6);
        assert!(waited.is_err_and(|error| error.message.contains("timed out")));
    }

    #[test]
    fn each_service_says_not_yet_its_own_way() {
        for code in ["InvalidVpcID.NotFound", "NoSuchEntity", "NoSuchBucket", "NotFoundException"] {
            assert!(referenced_not_yet_visible(code), "{code}");
        }
        assert!(referenced_not_yet_visible("ResourceNotFoundException"));
        assert!(!referenced_not_yet_visible("InvalidParameterValue"));
        assert!(iam_not_yet_propagated("NoSuchEntity"));
    }
}
