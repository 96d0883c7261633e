//! The server side of the API keys page: the list (admins: every key; vendors: their own),
//! making a key (kept in the maker's session until the page shows it, once) and revoking
//! one. Each checks that the signed-in account is an admin or a vendor first.

use std::collections::HashMap;
use std::time::Duration;

use auth::api_keys::{self, KeyInput, Scope};

use super::{ApiKeysPage, FreshKey, KeyRow, ScopeChoice};
use crate::error::AppError;
use crate::ssr::{internal, redirect_with_flash, require_user, server_context, session};

/// Where a key just made waits in its maker's session for the page to show it.
const FRESH_KEY: &str = "api_key_shown_once";

/// How long a key just made waits in the session for the page to show it.
const FRESH_FOR_MS: i64 = 10 * 60 * 1000;

/// A key just made, in the session (taken out when the page shows it, or ignored once
/// [`FRESH_FOR_MS`] have passed).
#[derive(serde::Serialize, serde::Deserialize)]
struct Fresh {
    user_id: String,
    name: String,
    secret: String,
    made_at: i64,
}

/// The signed-in account, if it may hold keys (its roles allow at least one scope: an
/// admin or a vendor): 401 when nobody is signed in, 403 for anyone else.
async fn require_staff() -> Result<auth::Account, AppError> {
    let account = require_user().await?;
    if !Scope::all_allowed_to(&account).is_empty() {
        Ok(account)
    } else {
        tracing::warn!(user.id = %account.id, "refused: API keys need an admin or vendor");
        Err(AppError::Forbidden)
    }
}

fn field_of(scope: Scope) -> String {
    format!("scope_{}", scope.as_str().replace(':', "_"))
}

pub(super) async fn get_api_keys() -> Result<ApiKeysPage, AppError> {
    let account = require_staff().await?;
    let ctx = server_context()?;
    let staff = account.may_act_as(auth::Role::Admin);
    let keys = api_keys::list(&ctx.db, (!staff).then_some(&account.id))
        .await
        .map_err(internal)?;
    let owners: Vec<auth::UserId> = keys.iter().map(|k| k.user_id.clone()).collect();
    let emails = auth::users::emails(&ctx.db, &owners)
        .await
        .map_err(internal)?;
    let now = ctx.clock.now();
    let session = session()?;
    let fresh = session
        .remove::<Fresh>(FRESH_KEY)
        .await
        .map_err(internal)?
        .filter(|f| f.user_id == account.id.as_str() && now.millis() - f.made_at <= FRESH_FOR_MS)
        .map(|f| FreshKey {
            name: f.name,
            secret: f.secret,
        });
    Ok(ApiKeysPage {
        staff,
        scopes: Scope::all_allowed_to(&account)
            .into_iter()
            .map(|s| ScopeChoice {
                name: s.as_str().to_owned(),
                field: field_of(s),
                description: s.describe().to_owned(),
            })
            .collect(),
        keys: keys
            .into_iter()
            .map(|k| KeyRow {
                owner: emails.get(&k.user_id).cloned().unwrap_or_default(),
                state: if k.revoked_at.is_some() {
                    "Revoked"
                } else if k.is_expired(now) {
                    "Expired"
                } else {
                    "Active"
                }
                .to_owned(),
                id: k.id,
                name: k.name,
                prefix: k.prefix,
                scopes: k.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
                created: k.created_at.to_human(),
                expires: k
                    .expires_at
                    .map_or_else(|| "never".to_owned(), |t| t.to_human()),
                last_used: k
                    .last_used_at
                    .map_or_else(|| "never".to_owned(), |t| t.to_human()),
            })
            .collect(),
        fresh,
    })
}

#[tracing::instrument(skip_all)]
pub(super) async fn create_api_key(form: HashMap<String, String>) -> Result<(), AppError> {
    let account = require_staff().await?;
    let ctx = server_context()?;
    let mut scopes = Vec::new();
    for (name, value) in &form {
        match name.as_str() {
            "name" | "expires" => {}
            other => match Scope::ALL.into_iter().find(|s| field_of(*s) == other) {
                Some(scope) if value == "on" => scopes.push(scope),
                _ => return Err(AppError::form("The form holds a field it should not.")),
            },
        }
    }
    let days = match form.get("expires").map(String::as_str) {
        None | Some("never") => None,
        Some(d) => match d.parse::<u64>() {
            Ok(d @ (30 | 90 | 365)) => Some(d),
            _ => {
                return Err(AppError::field(
                    "expires_at",
                    "Choose when the key expires.",
                ));
            }
        },
    };
    let input = KeyInput {
        name: form.get("name").cloned().unwrap_or_default(),
        scopes,
        expires_at: days.map(|d| ctx.clock.now().plus(Duration::from_secs(d * 86_400))),
    };
    let made = api_keys::create(&ctx.db, &ctx.clock, &account, &input).await?;
    session()?
        .insert(
            FRESH_KEY,
            Fresh {
                user_id: account.id.as_str().to_owned(),
                name: made.key.name,
                secret: made.secret,
                made_at: made.key.created_at.millis(),
            },
        )
        .await
        .map_err(internal)?;
    redirect_with_flash("/admin/api-keys", "api_key_created");
    Ok(())
}

#[tracing::instrument(skip_all, fields(key.id = %id))]
pub(super) async fn revoke_api_key(id: String) -> Result<(), AppError> {
    let account = require_staff().await?;
    let ctx = server_context()?;
    api_keys::revoke(&ctx.db, &ctx.clock, &account, &id).await?;
    redirect_with_flash("/admin/api-keys", "api_key_revoked");
    Ok(())
}
