//! The device's local accounts: who may log in, with which role.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// One local account. Its `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// Login name.
    pub user: String,
    /// Password, compared exactly.
    #[serde(skip_serializing)]
    pub password: String,
    /// Vendor role name ("Administrator", "ReadOnly", "admin", ...).
    #[serde(default = "default_role")]
    pub role: String,
    /// A disabled account cannot log in.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The account must change its password before doing anything else.
    #[serde(default)]
    pub password_change_required: bool,
    /// Bumped on every change; vendors derive ETags from it.
    #[serde(default, skip_deserializing)]
    pub version: u64,
}

fn default_role() -> String {
    "Administrator".to_string()
}

fn yes() -> bool {
    true
}

impl Account {
    /// An enabled account with the given role.
    pub fn new(user: &str, password: &str, role: &str) -> Account {
        Account {
            user: user.to_string(),
            password: password.to_string(),
            role: role.to_string(),
            enabled: true,
            password_change_required: false,
            version: 1,
        }
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("user", &self.user)
            .field("password", &"[redacted]")
            .field("role", &self.role)
            .field("enabled", &self.enabled)
            .field("password_change_required", &self.password_change_required)
            .field("version", &self.version)
            .finish()
    }
}

/// A change to an account's attributes that are not credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountUpdate {
    /// New role.
    pub role: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// Set or clear the password-change requirement.
    pub password_change_required: Option<bool>,
}

/// Account operations that can fail.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// No account by that name.
    #[error("no account {0:?}")]
    NotFound(String),
    /// An account by that name exists already.
    #[error("account {0:?} exists already")]
    Exists(String),
    /// The name is not acceptable.
    #[error("invalid user name {0:?}")]
    InvalidName(String),
}

/// The account table, kept in name order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Accounts {
    by_name: BTreeMap<String, Account>,
}

impl Accounts {
    pub(crate) fn new(accounts: impl IntoIterator<Item = Account>) -> Accounts {
        Accounts {
            by_name: accounts
                .into_iter()
                .map(|mut a| {
                    a.version = a.version.max(1);
                    (a.user.clone(), a)
                })
                .collect(),
        }
    }

    /// The account if `user` and `password` match an enabled one.
    pub(crate) fn check(&self, user: &str, password: &str) -> Option<&Account> {
        self.by_name
            .get(user)
            .filter(|a| a.enabled && constant_time_eq(a.password.as_bytes(), password.as_bytes()))
    }

    pub(crate) fn get(&self, user: &str) -> Option<&Account> {
        self.by_name.get(user)
    }

    pub(crate) fn list(&self) -> Vec<Account> {
        self.by_name.values().cloned().collect()
    }

    pub(crate) fn add(&mut self, mut account: Account) -> Result<Account, AccountError> {
        if account.user.is_empty() || account.user.chars().any(|c| c.is_control()) {
            return Err(AccountError::InvalidName(account.user));
        }
        if self.by_name.contains_key(&account.user) {
            return Err(AccountError::Exists(account.user));
        }
        account.version = 1;
        self.by_name.insert(account.user.clone(), account.clone());
        Ok(account)
    }

    pub(crate) fn set_password(
        &mut self,
        user: &str,
        password: &str,
    ) -> Result<Account, AccountError> {
        let account =
            self.by_name.get_mut(user).ok_or_else(|| AccountError::NotFound(user.to_string()))?;
        account.password = password.to_string();
        account.password_change_required = false;
        account.version += 1;
        Ok(account.clone())
    }

    pub(crate) fn update(
        &mut self,
        user: &str,
        update: &AccountUpdate,
    ) -> Result<Account, AccountError> {
        let account =
            self.by_name.get_mut(user).ok_or_else(|| AccountError::NotFound(user.to_string()))?;
        if let Some(role) = &update.role {
            account.role = role.clone();
        }
        if let Some(enabled) = update.enabled {
            account.enabled = enabled;
        }
        if let Some(required) = update.password_change_required {
            account.password_change_required = required;
        }
        account.version += 1;
        Ok(account.clone())
    }

    pub(crate) fn remove(&mut self, user: &str) -> Result<Account, AccountError> {
        self.by_name.remove(user).ok_or_else(|| AccountError::NotFound(user.to_string()))
    }
}

/// Compares without stopping at the first difference, so timing says nothing.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
