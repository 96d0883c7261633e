//! Domain events the accounts service writes to the outbox, in the same transaction as the
//! change. Payloads carry ids, never tokens or passwords: the mail handler asks
//! [`crate::users::mail_token`] for a fresh token when it sends the message, so a token exists
//! only in the mail itself.

use serde::{Deserialize, Serialize};

use crate::UserId;

/// A new account; the handler sends the welcome mail with the verification link.
pub const USER_REGISTERED: &str = "user.registered";
/// Someone tried to register with the address of an existing account; its owner is told
/// (with sign-in and reset links), and the one who tried is answered as if it were new.
pub const REGISTRATION_ATTEMPTED: &str = "user.registration_attempted";
/// The user asked for another verification mail.
pub const VERIFICATION_REQUESTED: &str = "user.verification_requested";
/// Someone asked to reset the password of an existing account.
pub const PASSWORD_RESET_REQUESTED: &str = "user.password_reset_requested";
/// The password was changed or reset; the user is told.
pub const PASSWORD_CHANGED: &str = "user.password_changed";
/// The user asked to move their account to a new address; the new address gets a link.
pub const EMAIL_CHANGE_REQUESTED: &str = "user.email_change_requested";
/// The account moved to a new address; the old address is told.
pub const EMAIL_CHANGED: &str = "user.email_changed";

/// Payload of the events about one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEvent {
    pub user_id: UserId,
}

/// Payload of [`EMAIL_CHANGE_REQUESTED`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailChangeRequested {
    pub user_id: UserId,
    pub new_email: String,
}

/// Payload of [`EMAIL_CHANGED`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailChanged {
    pub user_id: UserId,
    pub old_email: String,
    pub new_email: String,
}
