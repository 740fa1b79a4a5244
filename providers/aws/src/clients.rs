//! SDK configuration and clients per provider binding: the account's credentials (the
//! default chain, optionally a deployer role assumed on top), its region, and the endpoint.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_types::SdkConfig;
use aws_types::region::Region;
use cairn_engine::{ProviderBinding, ProviderError};
use serde::Deserialize;
use tokio::sync::OnceCell;

use crate::counter::CallCounter;

/// Attempts per SDK call in the standard retry mode (exponential backoff with full jitter,
/// from one second up to twenty). Throttling and 5xx answers (whatever their body) are
/// retried; at one call in five failing, a call still fails every attempt about once in
/// 400,000, so an apply of a few hundred calls completes in one run.
const STANDARD_ATTEMPTS: u32 = 8;

/// Attempts of the first call to each account (the credentials check): an endpoint that does
/// not answer at all is reported within seconds instead of after the full backoff.
pub(crate) const REACHABILITY_ATTEMPTS: u32 = 3;

/// How the provider reaches AWS.
#[derive(Clone, Debug, Default)]
pub struct ProviderOptions {
    /// Send every client to this endpoint (a local emulator) instead of AWS.
    pub endpoint_url: Option<String>,
    /// Base credentials to use instead of the default credential chain (the emulator's
    /// dummy keys in tests). The binaries leave this empty.
    pub static_credentials: Option<StaticCredentials>,
    /// The first pause before retrying a throttled or failed call, instead of the SDK's one
    /// second (the pauses double from it, with full jitter, up to twenty seconds). Tests that
    /// fail calls on purpose shorten it; the binaries leave it empty.
    pub initial_backoff: Option<Duration>,
}

/// A fixed access key pair.
#[derive(Clone, Debug)]
pub struct StaticCredentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

/// The provider settings of a binding, as the stack config gives them.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BindingSettings {
    /// A role to assume in the binding's account.
    #[serde(default)]
    deployer_role_arn: Option<String>,
    /// The external id the role's trust policy requires.
    #[serde(default)]
    deployer_external_id: Option<String>,
    /// The session name of the assumed role.
    #[serde(default)]
    session_name: Option<String>,
}

/// The clients of one binding.
#[derive(Clone, Debug)]
pub struct Clients {
    /// The binding they act for.
    pub binding: ProviderBinding,
    /// The SDK configuration they were built from (credentials, region, endpoint), to build
    /// further credentials on, such as a role assumed for one call.
    pub sdk: SdkConfig,
    /// EC2.
    pub ec2: aws_sdk_ec2::Client,
    /// IAM.
    pub iam: aws_sdk_iam::Client,
    /// S3 (path-style when an endpoint is set).
    pub s3: aws_sdk_s3::Client,
    /// KMS.
    pub kms: aws_sdk_kms::Client,
    /// CloudWatch.
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// CloudWatch Logs.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// AWS Config.
    pub config: aws_sdk_config::Client,
    /// STS.
    pub sts: aws_sdk_sts::Client,
    /// Secrets Manager.
    pub secrets: aws_sdk_secretsmanager::Client,
    /// Counts the calls of these clients and of those made from them.
    counter: CallCounter,
}

impl Clients {
    /// An EC2 client of this binding's region acting as `role_arn`, assumed with this
    /// binding's credentials (and `external_id` when the role's trust requires one).
    pub async fn ec2_as_role(
        &self,
        role_arn: &str,
        external_id: Option<&str>,
    ) -> aws_sdk_ec2::Client {
        let mut role = AssumeRoleProvider::builder(role_arn)
            .session_name("cairn-assumed-role")
            .configure(&self.sdk);
        if let Some(external_id) = external_id {
            role = role.external_id(external_id);
        }
        let credentials = SharedCredentialsProvider::new(role.build().await);
        let sdk = self.sdk.to_builder().credentials_provider(credentials).build();
        let config =
            aws_sdk_ec2::config::Builder::from(&sdk).interceptor(self.counter.clone()).build();
        aws_sdk_ec2::Client::from_conf(config)
    }
}

/// Builds each binding's clients once and hands out shared copies.
#[derive(Debug)]
pub struct ClientCache {
    options: ProviderOptions,
    counter: CallCounter,
    cells: Mutex<HashMap<String, Arc<OnceCell<Arc<Clients>>>>>,
}

impl ClientCache {
    /// A cache that builds clients with `options`, counting calls with `counter`.
    pub fn new(options: ProviderOptions, counter: CallCounter) -> Self {
        ClientCache { options, counter, cells: Mutex::new(HashMap::new()) }
    }

    /// The clients of `binding`, built on first use.
    pub async fn clients(&self, binding: &ProviderBinding) -> Result<Arc<Clients>, ProviderError> {
        let key = format!("{}|{}|{}", binding.name, binding.location(), binding.settings);
        let cell = {
            let mut cells = self.cells.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(cells.entry(key).or_default())
        };
        cell.get_or_try_init(|| async { self.build(binding).await.map(Arc::new) }).await.cloned()
    }

    async fn build(&self, binding: &ProviderBinding) -> Result<Clients, ProviderError> {
        let settings: BindingSettings = match &binding.settings {
            serde_json::Value::Null => BindingSettings::default(),
            other => serde_json::from_value(other.clone()).map_err(|error| {
                ProviderError::new(format!(
                    "provider binding `{}` has settings cairn-aws cannot read ({error}): \
                     use deployer_role_arn, deployer_external_id and session_name",
                    binding.name
                ))
            })?,
        };
        let sdk = self.sdk_config(binding, &settings).await;
        Ok(self.clients_for(binding.clone(), &sdk))
    }

    /// The standard retry mode with `attempts` attempts per call.
    pub(crate) fn retries(&self, attempts: u32) -> RetryConfig {
        let retries = RetryConfig::standard().with_max_attempts(attempts);
        match self.options.initial_backoff {
            Some(pause) => retries.with_initial_backoff(pause),
            None => retries,
        }
    }

    /// The binding's `SdkConfig`: base credentials, then the deployer role if one is set.
    async fn sdk_config(&self, binding: &ProviderBinding, settings: &BindingSettings) -> SdkConfig {
        let region = Region::new(binding.region.clone());
        // The SDK's standard retry mode (throttling and transient errors, with backoff); the
        // engine's own bounded retries for eventual consistency sit on top (errors.rs).
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(region.clone())
            .retry_config(self.retries(STANDARD_ATTEMPTS));
        if let Some(url) = &self.options.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(keys) = &self.options.static_credentials {
            let credentials =
                Credentials::from_keys(&keys.access_key_id, &keys.secret_access_key, None);
            loader = loader.credentials_provider(credentials);
        }
        let base = loader.load().await;
        let Some(role_arn) = &settings.deployer_role_arn else { return base };
        let mut role = AssumeRoleProvider::builder(role_arn).region(region).configure(&base);
        if let Some(external_id) = &settings.deployer_external_id {
            role = role.external_id(external_id);
        }
        let session = settings.session_name.clone().unwrap_or_else(|| "cairn".to_owned());
        let role = role.session_name(session).build().await;
        base.to_builder().credentials_provider(SharedCredentialsProvider::new(role)).build()
    }

    fn clients_for(&self, binding: ProviderBinding, sdk: &SdkConfig) -> Clients {
        let counter = &self.counter;
        macro_rules! client {
            ($service:ident) => {{
                let config =
                    $service::config::Builder::from(sdk).interceptor(counter.clone()).build();
                $service::Client::from_conf(config)
            }};
        }
        let s3_config = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(self.options.endpoint_url.is_some())
            .interceptor(counter.clone())
            .build();
        Clients {
            binding,
            sdk: sdk.clone(),
            ec2: client!(aws_sdk_ec2),
            iam: client!(aws_sdk_iam),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            kms: client!(aws_sdk_kms),
            cloudwatch: client!(aws_sdk_cloudwatch),
            logs: client!(aws_sdk_cloudwatchlogs),
            config: client!(aws_sdk_config),
            sts: client!(aws_sdk_sts),
            secrets: client!(aws_sdk_secretsmanager),
            counter: counter.clone(),
        }
    }
}
