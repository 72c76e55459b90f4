//! A device's local accounts: list, create, change password, delete. Passwords go in,
//! never out, and are never logged.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{Json, Path};
use super::find;
use super::views::Ended;
use crate::device::Device;
use crate::fleet::FleetState;
use crate::session::{Account, EndReason, UserChange};

/// An account as the control API shows it: no password.
#[derive(Debug, Serialize)]
pub struct UserView {
    user: String,
    role: String,
    enabled: bool,
    password_change_required: bool,
    version: u64,
    open_sessions: usize,
}

impl UserView {
    fn new(a: &Account, open_sessions: usize) -> UserView {
        UserView {
            user: a.user.clone(),
            role: a.role.clone(),
            enabled: a.enabled,
            password_change_required: a.password_change_required,
            version: a.version,
            open_sessions,
        }
    }
}

/// Open sessions per user on `device`.
fn open_by_user(device: &Device) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for s in device.store.list(device.now()) {
        *counts.entry(s.user.into()).or_insert(0) += 1;
    }
    counts
}

/// A device's accounts, by name.
#[derive(Debug, Serialize)]
pub struct UserList {
    device: String,
    users: Vec<UserView>,
}

/// `GET /_sessionlab/devices/{name}/users`.
pub async fn list(
    State(fleet): State<Arc<FleetState>>,
    Path(name): Path<String>,
) -> Result<Json<UserList>, ApiError> {
    let device = &find(&fleet, &name)?.device;
    let open = open_by_user(device);
    let users = device
        .store
        .accounts()
        .iter()
        .map(|a| UserView::new(a, open.get(&a.user).copied().unwrap_or(0)))
        .collect();
    Ok(Json(UserList { device: name, users }))
}

/// `GET /_sessionlab/devices/{name}/users/{user}`.
pub async fn get(
    State(fleet): State<Arc<FleetState>>,
    Path((name, user)): Path<(String, String)>,
) -> Result<Json<UserView>, ApiError> {
    let device = &find(&fleet, &name)?.device;
    let account =
        device.store.account(&user).ok_or_else(|| ApiError::user_not_found(&name, &user))?;
    let open = open_by_user(device).get(&user).copied().unwrap_or(0);
    Ok(Json(UserView::new(&account, open)))
}

/// A new account. No `Debug`: it carries a password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    user: String,
    password: String,
    role: String,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    password_change_required: bool,
}

fn yes() -> bool {
    true
}

/// `POST /_sessionlab/devices/{name}/users`.
pub async fn create(
    State(fleet): State<Arc<FleetState>>,
    Path(name): Path<String>,
    Json(body): Json<NewUser>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let device = &find(&fleet, &name)?.device;
    check_password(&body.password)?;
    if body.role.is_empty() {
        return Err(ApiError::bad_field("role must not be empty"));
    }
    let roles = device.profile().roles();
    if !roles.contains(&body.role) {
        return Err(ApiError::bad_field(format!(
            "unknown role {:?} for device {name:?} (profile {}): valid roles are {}",
            body.role,
            device.profile().name,
            roles.join(", ")
        ))
        .with_details(serde_json::json!({ "valid_roles": roles })));
    }
    let mut account = Account::new(&body.user, &body.password, &body.role);
    account.enabled = body.enabled;
    account.password_change_required = body.password_change_required;
    let account = device.store.add_account(account).map_err(|e| ApiError::account(&name, e))?;
    tracing::info!(device = %name, user = %account.user, role = %account.role, "account created");
    Ok((StatusCode::CREATED, Json(UserView::new(&account, 0))))
}

fn check_password(password: &str) -> Result<(), ApiError> {
    if password.is_empty() {
        return Err(ApiError::bad_field("password must not be empty"));
    }
    Ok(())
}

/// A new password. No `Debug`: it carries a password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    password: String,
}

/// What changing or deleting an account did to its sessions.
#[derive(Debug, Serialize)]
pub struct UserChanged {
    device: String,
    user: UserView,
    /// The profile's rule for this change.
    policy: UserChange,
    ended: Ended,
}

/// `PUT` or `POST /_sessionlab/devices/{name}/users/{user}/password`: the profile's
/// `on_password_change` decides whether the user's sessions end.
pub async fn change_password(
    State(fleet): State<Arc<FleetState>>,
    Path((name, user)): Path<(String, String)>,
    Json(body): Json<NewPassword>,
) -> Result<Json<UserChanged>, ApiError> {
    let device = &find(&fleet, &name)?.device;
    check_password(&body.password)?;
    let policy = device.store.policy().on_password_change;
    let (account, ended) = device
        .store
        .change_password(&user, &body.password, device.now())
        .map_err(|e| ApiError::account(&name, e))?;
    tracing::info!(device = %name, user = %user, ended = ended.len(), "password changed");
    let open = open_by_user(device).get(&user).copied().unwrap_or(0);
    Ok(Json(UserChanged {
        device: name,
        user: UserView::new(&account, open),
        policy,
        ended: Ended::new(EndReason::CredentialChange, &ended),
    }))
}

/// `DELETE /_sessionlab/devices/{name}/users/{user}`: the profile's `on_user_delete`
/// decides whether the user's sessions end.
pub async fn delete(
    State(fleet): State<Arc<FleetState>>,
    Path((name, user)): Path<(String, String)>,
) -> Result<Json<UserChanged>, ApiError> {
    let device = &find(&fleet, &name)?.device;
    let policy = device.store.policy().on_user_delete;
    let (account, ended) = device
        .store
        .delete_account(&user, device.now())
        .map_err(|e| ApiError::account(&name, e))?;
    tracing::info!(device = %name, user = %user, ended = ended.len(), "account deleted");
    let open = open_by_user(device).get(&user).copied().unwrap_or(0);
    Ok(Json(UserChanged {
        device: name,
        user: UserView::new(&account, open),
        policy,
        ended: Ended::new(EndReason::UserDeleted, &ended),
    }))
}
