//! Users, roles and password hashing.

pub mod password;

use shop_core::db::Conn;
use shop_core::{Clock, Db, Email};

shop_core::define_id!(
    /// Identifies a user account.
    UserId
);

/// What a user may do. A user may hold several roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Vendor,
    Admin,
}

impl Role {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Vendor => "vendor",
            Role::Admin => "admin",
        }
    }
}

/// Business outcomes and failures of account operations.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Password(#[from] password::PasswordError),
    #[error("Enter a name.")]
    NameRequired,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Whether [`create_or_promote_admin`] made a new account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminOutcome {
    Created,
    Promoted,
}

/// Creates an admin account, or gives an existing account the admin role and the given
/// password. The operator running this vouches for the address, so it counts as verified
/// (the admin role requires a verified email).
pub async fn create_or_promote_admin(
    db: &Db,
    clock: &Clock,
    email: &Email,
    display_name: &str,
    password: &str,
) -> Result<(UserId, AdminOutcome), AuthError> {
    let name = display_name.trim();
    if name.is_empty() {
        return Err(AuthError::NameRequired);
    }
    password::validate(password)?;
    let hash = password::hash(password.to_owned()).await?;
    let now = clock.now().millis();

    let mut tx = db.begin().await?;
    let existing: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let (id, outcome) = match existing {
        Some(id) => {
            sqlx::query(
                "UPDATE users SET password_hash = $1, status = 'active',
                        email_verified_at = COALESCE(email_verified_at, $2), updated_at = $2
                 WHERE id = $3",
            )
            .bind(&hash)
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            (UserId(id), AdminOutcome::Promoted)
        }
        None => {
            let id = UserId::new();
            sqlx::query(
                "INSERT INTO users (id, email, display_name, password_hash, status, email_verified_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, 'active', $5, $5, $5)",
            )
            .bind(id.as_str())
            .bind(email.as_str())
            .bind(name)
            .bind(&hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            (id, AdminOutcome::Created)
        }
    };
    for role in [Role::Customer, Role::Admin] {
        grant_role(&mut tx, clock, &id, role).await?;
    }
    tx.commit().await?;
    tracing::info!(user.id = %id, ?outcome, "admin account ready");
    Ok((id, outcome))
}

async fn grant_role(
    conn: &mut Conn,
    clock: &Clock,
    user: &UserId,
    role: Role,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO user_roles (user_id, role, granted_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, role) DO NOTHING",
    )
    .bind(user.as_str())
    .bind(role.as_str())
    .bind(clock.now().millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// The roles a user holds.
pub async fn roles(db: &Db, user: &UserId) -> Result<Vec<Role>, sqlx::Error> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
            .bind(user.as_str())
            .fetch_all(db.reader())
            .await?;
    Ok(names
        .iter()
        .filter_map(|n| match n.as_str() {
            "customer" => Some(Role::Customer),
            "vendor" => Some(Role::Vendor),
            "admin" => Some(Role::Admin),
            _ => None,
        })
        .collect())
}

/// Checks an email and password pair; `None` when either is wrong. Takes about the same
/// time whether or not the account exists.
pub async fn verify_credentials(
    db: &Db,
    email: &Email,
    password: &str,
) -> Result<Option<UserId>, AuthError> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT id, password_hash FROM users WHERE email = $1 AND status = 'active'",
    )
    .bind(email.as_str())
    .fetch_optional(db.reader())
    .await?;
    let (id, hash) = match row {
        Some((id, hash)) => (Some(id), hash),
        None => (None, password::dummy_hash().to_owned()),
    };
    let ok = password::verify(password.to_owned(), hash).await?;
    Ok(id.filter(|_| ok).map(UserId))
}
