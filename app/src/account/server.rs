//! The server side of the account pages' server functions: the overview, the profile (name,
//! email, password) and the list of signed-in sessions. Every function needs a signed-in
//! user; the auth service does the work.

use super::{Overview, SessionRow, addresses, describe_device};
use crate::error::AppError;
use crate::ssr::{redirect_with_flash, require_user, server_context};
use crate::viewer::Viewer;

pub(super) async fn get_overview() -> Result<Overview, AppError> {
    let ctx = server_context()?;
    let user = require_user().await?;
    let addresses = auth::addresses::list(&ctx.db, &user.id).await?;
    let sessions = auth::sessions::list(&ctx.db, &ctx.clock, &user.id).await?;
    Ok(Overview {
        viewer: Viewer::from(&user),
        member_since: user.created_at.to_human(),
        default_address: addresses
            .iter()
            .find(|a| a.is_default)
            .map(addresses::address_lines),
        address_count: addresses.len(),
        session_count: sessions.len(),
    })
}

pub(super) async fn get_profile() -> Result<Viewer, AppError> {
    let user = require_user().await?;
    Ok(Viewer::from(&user))
}

pub(super) async fn update_name(display_name: String) -> Result<(), AppError> {
    let ctx = server_context()?;
    let user = require_user().await?;
    auth::users::update_name(&ctx.db, &ctx.clock, &user.id, &display_name)
        .await
        .map_err(|e| AppError::from(e).keeping(&[("display_name", &display_name)]))?;
    redirect_with_flash("/account/profile", "profile_saved");
    Ok(())
}

pub(super) async fn change_email(email: String, current_password: String) -> Result<(), AppError> {
    let ctx = server_context()?;
    let user = require_user().await?;
    let keep = [("email", email.as_str())];
    let parsed = shop_core::Email::parse(&email)
        .map_err(|e| AppError::field("email", e.to_string()).keeping(&keep))?;
    auth::users::request_email_change(&ctx.db, &ctx.clock, &user.id, &current_password, &parsed)
        .await
        .map_err(|e| AppError::from(e).keeping(&keep))?;
    redirect_with_flash("/account/profile", "email_change_sent");
    Ok(())
}

pub(super) async fn change_password(
    current_password: String,
    password: String,
    password_confirm: String,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let user = require_user().await?;
    if password != password_confirm {
        return Err(AppError::field(
            "password_confirm",
            "The two passwords are not the same.",
        ));
    }
    let session = crate::ssr::session()?;
    let keep = crate::signed_in::current_key(&session);
    auth::users::change_password(
        &ctx.db,
        &ctx.clock,
        &user.id,
        &current_password,
        &password,
        keep.as_deref(),
    )
    .await?;
    redirect_with_flash("/account/profile", "password_changed");
    Ok(())
}

pub(super) async fn list_sessions() -> Result<Vec<SessionRow>, AppError> {
    let ctx = server_context()?;
    let user = require_user().await?;
    let current = crate::signed_in::current_key(&crate::ssr::session()?);
    let sessions = auth::sessions::list(&ctx.db, &ctx.clock, &user.id).await?;
    Ok(sessions
        .into_iter()
        .map(|s| SessionRow {
            current: current.as_deref() == Some(s.key.as_str()),
            device: describe_device(s.user_agent.as_deref()),
            ip: s.ip.unwrap_or_default(),
            signed_in: s.signed_in_at.to_human(),
            last_seen: s.last_seen_at.to_human(),
            key: s.key,
        })
        .collect())
}

pub(super) async fn end_session(key: String) -> Result<(), AppError> {
    let ctx = server_context()?;
    let user = require_user().await?;
    auth::sessions::end_one(&ctx.db, &user.id, &key).await?;
    redirect_with_flash("/account/sessions", "session_ended");
    Ok(())
}

pub(super) async fn end_other_sessions() -> Result<(), AppError> {
    let ctx = server_context()?;
    let user = require_user().await?;
    let keep = crate::signed_in::current_key(&crate::ssr::session()?);
    auth::sessions::end_all(&ctx.db, &user.id, keep.as_deref()).await?;
    redirect_with_flash("/account/sessions", "sessions_ended");
    Ok(())
}
