//! AWS resource types, one module per service.

pub mod cloudwatch;
pub mod config;
pub mod ec2;
pub mod iam;
pub mod kms;
pub mod logs;
pub mod s3;
pub mod secretsmanager;

use cairn_engine::ProviderBinding;
use serde_json::json;

/// Where AWS resources live: an account in a region, and how cairn reaches it. Hand it to
/// [`crate::Stack::provider`].
///
/// ```
/// use cairn_dsl::aws::Account;
///
/// let trading = Account::new("trading", "000000000000", "local-1")
///     .deployer_role("arn:aws:iam::000000000000:role/cairn-deployer")
///     .session_name("cairn-example");
/// let binding = cairn_engine::ProviderBinding::from(trading);
/// assert_eq!(binding.settings["session_name"], "cairn-example");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    name: String,
    account_id: String,
    region: String,
    deployer_role_arn: Option<String>,
    deployer_external_id: Option<String>,
    session_name: Option<String>,
}

impl Account {
    /// The binding `name` (part of every URN of its resources) acting in the 12-digit
    /// `account_id`, in `region`. Without a deployer role, the default credential chain must
    /// already act in that account.
    pub fn new(
        name: impl Into<String>,
        account_id: impl Into<String>,
        region: impl Into<String>,
    ) -> Self {
        Account {
            name: name.into(),
            account_id: account_id.into(),
            region: region.into(),
            deployer_role_arn: None,
            deployer_external_id: None,
            session_name: None,
        }
    }

    /// Acts in the account by assuming this role (its ARN).
    pub fn deployer_role(mut self, arn: impl Into<String>) -> Self {
        self.deployer_role_arn = Some(arn.into());
        self
    }

    /// The external id the deployer role's trust policy requires.
    pub fn deployer_external_id(mut self, external_id: impl Into<String>) -> Self {
        self.deployer_external_id = Some(external_id.into());
        self
    }

    /// The session name of the assumed role, as CloudTrail shows it.
    pub fn session_name(mut self, name: impl Into<String>) -> Self {
        self.session_name = Some(name.into());
        self
    }
}

impl From<Account> for ProviderBinding {
    fn from(account: Account) -> Self {
        ProviderBinding {
            name: account.name,
            account_id: account.account_id,
            region: account.region,
            settings: json!({
                "deployer_role_arn": account.deployer_role_arn,
                "deployer_external_id": account.deployer_external_id,
                "session_name": account.session_name,
            }),
        }
    }
}
