//! The server side of getting in and back in: registering, signing in and out, confirming
//! an address, resetting a password and confirming an email change. Signing in starts a new
//! session and brings in the cart this browser filled as a guest.

use crate::error::AppError;
use crate::ssr::{
    client_ip, internal, redirect_back_always, redirect_with_flash, server_context, session,
    user_agent,
};

pub(super) async fn register(
    display_name: String,
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let keep = [
        ("display_name", display_name.as_str()),
        ("email", email.as_str()),
    ];
    let parsed = shop_core::Email::parse(&email)
        .map_err(|e| AppError::field("email", e.to_string()).keeping(&keep))?;
    // New or already registered: the same answer either way.
    let _registered = auth::register(
        &ctx.db,
        &ctx.clock,
        auth::users::Registration {
            email: parsed,
            display_name: display_name.clone(),
            password,
            ip: client_ip(),
        },
    )
    .await
    .map_err(|e| AppError::from(e).keeping(&keep))?;
    let target = match crate::url::safe_next(next.as_deref()) {
        Some(next) => format!("/login?next={}", crate::url::urlencode(&next)),
        None => "/login".to_owned(),
    };
    redirect_with_flash(&target, "registration_sent");
    Ok(())
}

pub(super) async fn login(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let ip = client_ip();
    let account = auth::login(
        &ctx.db,
        &ctx.clock,
        auth::users::Login {
            email: &email,
            password: &password,
            ip: &ip,
        },
    )
    .await
    .map_err(|e| AppError::from(e).keeping(&[("email", &email)]))?;
    let cart_changed = sign_in_here(&account).await?;
    let target = crate::url::safe_next(next.as_deref()).unwrap_or_else(|| "/account".to_owned());
    redirect_with_flash(
        &target,
        if cart_changed {
            "signed_in_cart_changed"
        } else {
            "signed_in"
        },
    );
    Ok(())
}

/// Signs `account` in on this browser's session (a new session id) and merges the cart it
/// filled as a guest; true when the merge had to change some items.
async fn sign_in_here(account: &auth::Account) -> Result<bool, AppError> {
    let ctx = server_context()?;
    crate::signed_in::sign_in(
        &session()?,
        &ctx.clock,
        account,
        user_agent().as_deref(),
        Some(&client_ip()),
    )
    .await?;
    Ok(crate::cart::server::merge_guest_cart(account).await)
}

pub(super) async fn logout() -> Result<(), AppError> {
    let session = session()?;
    crate::signed_in::sign_out(&session).await?;
    redirect_with_flash("/", "signed_out");
    Ok(())
}

pub(super) async fn resend_verification() -> Result<(), AppError> {
    let ctx = server_context()?;
    let user = crate::ssr::require_user().await?;
    auth::users::resend_verification(&ctx.db, &ctx.clock, &user.id).await?;
    redirect_back_always("verification_sent", "/account");
    Ok(())
}

pub(super) async fn verify_email(token: String) -> Result<(), AppError> {
    let ctx = server_context()?;
    let account = auth::users::verify_email(&ctx.db, &ctx.clock, &token).await?;
    if crate::ssr::current_user().await?.is_some() {
        redirect_with_flash("/account", "verified");
        return Ok(());
    }
    if account.status != auth::Status::Active {
        redirect_with_flash("/login", "verified");
        return Ok(());
    }
    // The link proves the address is theirs: it signs the account in (this is how a new
    // account starts), and the cart this browser filled as a guest joins it.
    let cart_changed = sign_in_here(&account).await?;
    let flash = if cart_changed {
        "signed_in_cart_changed"
    } else {
        "welcome"
    };
    redirect_with_flash("/account", flash);
    Ok(())
}

pub(super) async fn stop_cart_reminders(user: String, token: String) -> Result<(), AppError> {
    let ctx = server_context()?;
    let keys = checkout::Keys::load(&ctx.db, &ctx.clock)
        .await
        .map_err(internal)?;
    if user.len() > 64 || !keys.check_reminders_token(&user, &token) {
        return Err(AppError::form(
            "This link is not valid. Use the link in the reminder exactly as it came.",
        ));
    }
    analytics::reminders::opt_out(&ctx.db, &ctx.clock, &user)
        .await
        .map_err(internal)?;
    redirect_with_flash("/", "reminders_stopped");
    Ok(())
}

pub(super) async fn request_password_reset(email: String) -> Result<(), AppError> {
    let ctx = server_context()?;
    let parsed = shop_core::Email::parse(&email)
        .map_err(|e| AppError::field("email", e.to_string()).keeping(&[("email", &email)]))?;
    auth::users::request_password_reset(&ctx.db, &ctx.clock, &parsed, &client_ip()).await?;
    redirect_with_flash("/forgot-password", "reset_sent");
    Ok(())
}

pub(super) async fn reset_token_valid(token: String) -> Result<bool, AppError> {
    let ctx = server_context()?;
    auth::tokens::is_valid(
        &ctx.db,
        &ctx.clock,
        &token,
        auth::tokens::Purpose::ResetPassword,
    )
    .await
    .map_err(crate::ssr::internal)
}

pub(super) async fn reset_password(
    token: String,
    password: String,
    password_confirm: String,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    if password != password_confirm {
        return Err(AppError::field(
            "password_confirm",
            "The two passwords are not the same.",
        ));
    }
    auth::users::reset_password(&ctx.db, &ctx.clock, &token, &password).await?;
    // This browser's session (if any) was ended with the others; drop its cookie too.
    let session = session()?;
    crate::signed_in::sign_out(&session).await?;
    redirect_with_flash("/login", "password_reset");
    Ok(())
}

pub(super) async fn confirm_email_change(token: String) -> Result<(), AppError> {
    let ctx = server_context()?;
    auth::users::confirm_email_change(&ctx.db, &ctx.clock, &token).await?;
    let signed_in = crate::ssr::current_user().await?.is_some();
    redirect_with_flash(
        if signed_in { "/account" } else { "/login" },
        "email_changed",
    );
    Ok(())
}
