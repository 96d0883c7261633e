//! The server side of the newsletter sign-up: the address checked, added to the list, and
//! the shopper sent back with the outcome.

use crate::error::AppError;
use crate::ssr::{internal, redirect_back_with_flash, server_context};

pub(super) async fn subscribe(email: String) -> Result<(), AppError> {
    let ctx = server_context()?;
    let email = match shop_core::Email::parse(&email) {
        Ok(e) => e,
        Err(e) => return Err(AppError::field("email", e.to_string())),
    };
    notifications::newsletter::subscribe(&ctx.db, &ctx.clock, &email)
        .await
        .map_err(internal)?;
    redirect_back_with_flash("subscribed");
    Ok(())
}
