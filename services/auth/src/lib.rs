//! Accounts: users and roles, password hashing, server-side sessions, email verification,
//! password reset, email change, sign-in throttling, the address book and the admin's user
//! management.
//!
//! Nothing here knows about HTTP or Leptos. The web layer passes in what it read from the
//! request (the session, the client address) and maps [`AuthError`] to responses.

pub mod addresses;
pub mod admin;
pub mod api_keys;
pub mod api_sessions;
pub mod events;
pub mod password;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod users;

use serde::{Deserialize, Serialize};
use shop_core::{Email, Timestamp};

pub use users::{
    AdminOutcome, create_or_promote_admin, find, find_by_email, login, register, roles,
    verify_credentials,
};

pub use shop_core::UserId;

/// What a user may do. A user may hold several roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Vendor,
    Admin,
}

impl Role {
    /// Every role, in the order the admin screens list them.
    pub const ALL: [Role; 3] = [Role::Customer, Role::Vendor, Role::Admin];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Vendor => "vendor",
            Role::Admin => "admin",
        }
    }

    /// Parses a stored or submitted role name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Whether an account may sign in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Disabled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "active" => Some(Status::Active),
            "disabled" => Some(Status::Disabled),
            _ => None,
        }
    }
}

/// A user account as the rest of the shop sees it (never with its password hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: UserId,
    pub email: Email,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub status: Status,
    pub email_verified_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl Account {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    /// True when the account may act as `role` right now. The admin role only counts with
    /// a verified email address.
    pub fn may_act_as(&self, role: Role) -> bool {
        self.status == Status::Active
            && self.has_role(role)
            && (role != Role::Admin || self.is_verified())
    }
}

/// Business outcomes and failures of account operations. The messages are fit to show.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Password(#[from] password::PasswordError),
    #[error("Choose a password that is not your email address.")]
    PasswordIsEmail,
    #[error("Enter your name.")]
    NameRequired,
    #[error("Use at most {max} characters.", max = users::NAME_MAX)]
    NameTooLong,
    #[error("An account with this email already exists. Sign in, or reset your password.")]
    EmailTaken,
    #[error("That is already your email address.")]
    SameEmail,
    /// Wrong email or password, or no such account: one message for all, so the answer
    /// never reveals whether an address has an account.
    #[error("The email or password is incorrect.")]
    InvalidCredentials,
    #[error("This account has been disabled. Contact the shop if you think this is a mistake.")]
    AccountDisabled,
    #[error("Your current password is incorrect.")]
    WrongPassword,
    #[error("This link is invalid, has already been used or has expired. Request a new one.")]
    InvalidToken,
    #[error("Your email address is already verified.")]
    AlreadyVerified,
    #[error("Too many attempts. Try again in {}.", throttle::describe_wait(*.retry_after_secs))]
    Throttled { retry_after_secs: u64 },
    #[error("We could not find that account.")]
    UserNotFound,
    #[error("We could not find that address.")]
    AddressNotFound,
    #[error("{message}")]
    InvalidField {
        field: &'static str,
        message: String,
    },
    #[error("The admin role needs a verified email address. Ask the user to verify first.")]
    AdminNeedsVerifiedEmail,
    #[error("You cannot do that to your own account.")]
    NotOnYourself,
    #[error("That session is not one of yours.")]
    SessionNotFound,
    #[error("We could not find that API key.")]
    KeyNotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("session store: {0}")]
    Session(String),
}

impl AuthError {
    /// The form field an error is about, if it is about one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            AuthError::Password(password::PasswordError::Hashing(_)) => None,
            AuthError::Password(_) | AuthError::PasswordIsEmail => Some("password"),
            AuthError::NameRequired | AuthError::NameTooLong => Some("display_name"),
            AuthError::EmailTaken | AuthError::SameEmail => Some("email"),
            AuthError::WrongPassword => Some("current_password"),
            AuthError::InvalidField { field, .. } => Some(field),
            _ => None,
        }
    }

    /// True for failures of the infrastructure (database, hashing), which are logged and
    /// shown only as "something went wrong".
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            AuthError::Db(_)
                | AuthError::Session(_)
                | AuthError::Password(password::PasswordError::Hashing(_))
        )
    }
}

impl From<throttle::Throttled> for AuthError {
    fn from(t: throttle::Throttled) -> Self {
        AuthError::Throttled {
            retry_after_secs: t.retry_after_secs,
        }
    }
}
