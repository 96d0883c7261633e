//! The admin's user management: search, roles, disable/enable. Every change is written to
//! the audit log in the same transaction.

use serde::{Deserialize, Serialize};
use serde_json::json;
use shop_core::audit::{self, Actor, Change};
use shop_core::{Clock, Db, Timestamp};

use crate::users::{AccountRow, grant_role_on};
use crate::{Account, AuthError, Role, Status, UserId};

#[derive(sqlx::FromRow)]
struct UserRole {
    user_id: String,
    role: String,
}

/// Which users to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserQuery {
    /// Part of the email or name, case-insensitive.
    pub text: Option<String>,
    pub role: Option<Role>,
    pub status: Option<Status>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

/// A row of the users list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub status: Status,
    pub verified: bool,
    pub roles: Vec<Role>,
    pub created_at: Timestamp,
}

/// A page of users, newest first, with the total count.
pub async fn search(db: &Db, q: &UserQuery) -> Result<(Vec<UserSummary>, i64), AuthError> {
    let per_page = q.per_page.clamp(1, 100);
    let offset = i64::from(q.page.max(1) - 1) * i64::from(per_page);
    let pattern = shop_core::search::search_text(q.text.as_deref())
        .map_err(|e| AuthError::InvalidField {
            field: "q",
            message: e.to_string(),
        })?
        .map(|t| format!("%{}%", audit::escape_like(&t.to_lowercase())));
    let role = q.role.map(Role::as_str);
    let status = q.status.map(Status::as_str);
    const WHERE: &str = "WHERE ($1 IS NULL OR u.email LIKE $1 ESCAPE '\\' OR LOWER(u.display_name) LIKE $1 ESCAPE '\\')
           AND ($2 IS NULL OR EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = $2))
           AND ($3 IS NULL OR u.status = $3)";
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM users u {WHERE}"))
        .bind(pattern.clone())
        .bind(role)
        .bind(status)
        .fetch_one(db.reader())
        .await?;
    let rows: Vec<AccountRow> = sqlx::query_as(&format!(
        "SELECT u.id, u.email, u.display_name, u.status, u.email_verified_at, u.created_at
         FROM users u {WHERE}
         ORDER BY u.created_at DESC, u.id DESC LIMIT $4 OFFSET $5"
    ))
    .bind(pattern)
    .bind(role)
    .bind(status)
    .bind(i64::from(per_page))
    .bind(offset)
    .fetch_all(db.reader())
    .await?;
    // The roles of the whole page in one query.
    let mut roles: std::collections::HashMap<String, Vec<Role>> = std::collections::HashMap::new();
    if !rows.is_empty() {
        let sql = format!(
            "SELECT user_id, role FROM user_roles WHERE user_id IN ({}) ORDER BY role",
            shop_core::db::placeholders(1, rows.len())
        );
        let mut query = sqlx::query_as::<_, UserRole>(&sql);
        for row in &rows {
            query = query.bind(row.id.clone());
        }
        for row in query.fetch_all(db.reader()).await? {
            if let Some(role) = Role::parse(&row.role) {
                roles.entry(row.user_id).or_default().push(role);
            }
        }
    }
    let users = rows
        .into_iter()
        .map(|r| {
            let mut user_roles = roles.remove(&r.id).unwrap_or_default();
            user_roles.sort();
            UserSummary {
                id: UserId::from_db(r.id),
                email: r.email,
                display_name: r.display_name,
                status: Status::parse(&r.status).unwrap_or(Status::Disabled),
                verified: r.email_verified_at.is_some(),
                roles: user_roles,
                created_at: Timestamp(r.created_at),
            }
        })
        .collect();
    Ok((users, total))
}

/// Head counts for the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub users: i64,
    pub admins: i64,
    pub vendors: i64,
    pub disabled: i64,
}

/// The dashboard's head counts as one database row.
#[derive(sqlx::FromRow)]
struct CountsRow {
    users: i64,
    admins: i64,
    vendors: i64,
    disabled: i64,
}

/// Counts users, admins, vendors and disabled accounts in one query.
pub async fn counts(db: &Db) -> Result<Counts, AuthError> {
    let CountsRow {
        users,
        admins,
        vendors,
        disabled,
    }: CountsRow = sqlx::query_as(
        "SELECT
             (SELECT COUNT(*) FROM users) AS users,
             (SELECT COUNT(*) FROM user_roles WHERE role = 'admin') AS admins,
             (SELECT COUNT(*) FROM user_roles WHERE role = 'vendor') AS vendors,
             (SELECT COUNT(*) FROM users WHERE status = 'disabled') AS disabled",
    )
    .fetch_one(db.reader())
    .await?;
    Ok(Counts {
        users,
        admins,
        vendors,
        disabled,
    })
}

fn actor_of(admin: &Account) -> Actor {
    Actor::user(&admin.id, admin.email.as_str())
}

/// Gives `user` a role. The admin role needs a verified address. Granting a role the user
/// already has changes nothing and logs nothing.
pub async fn grant_role(
    db: &Db,
    clock: &Clock,
    admin: &Account,
    user: &UserId,
    role: Role,
) -> Result<Account, AuthError> {
    change_role(db, clock, admin, user, role, true).await
}

/// Takes a role from `user`. An admin cannot take the admin role from themselves (so the
/// shop never loses its last admin by accident).
pub async fn revoke_role(
    db: &Db,
    clock: &Clock,
    admin: &Account,
    user: &UserId,
    role: Role,
) -> Result<Account, AuthError> {
    change_role(db, clock, admin, user, role, false).await
}

async fn change_role(
    db: &Db,
    clock: &Clock,
    admin: &Account,
    user: &UserId,
    role: Role,
    grant: bool,
) -> Result<Account, AuthError> {
    if !grant && role == Role::Admin && &admin.id == user {
        return Err(AuthError::NotOnYourself);
    }
    let target = crate::users::find(db, user)
        .await?
        .ok_or(AuthError::UserNotFound)?;
    if grant && role == Role::Admin && !target.is_verified() {
        return Err(AuthError::AdminNeedsVerifiedEmail);
    }
    let mut tx = db.begin().await?;
    let changed = if grant {
        grant_role_on(&mut tx, clock, user, role).await?
    } else {
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1 AND role = $2")
            .bind(user.as_str())
            .bind(role.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0
    };
    if changed {
        let mut after: Vec<Role> = target
            .roles
            .iter()
            .copied()
            .filter(|r| *r != role)
            .collect();
        if grant {
            after.push(role);
            after.sort();
        }
        audit::record(
            &mut tx,
            clock,
            &actor_of(admin),
            Change {
                action: if grant {
                    "user.role_granted"
                } else {
                    "user.role_revoked"
                },
                target_type: "user",
                target_id: user.as_str(),
                before: Some(json!({ "email": target.email.as_str(), "roles": target.roles })),
                after: Some(json!({ "email": target.email.as_str(), "roles": after })),
            },
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(user.id = %user, role = role.as_str(), grant, admin.id = %admin.id, "role changed");
    crate::users::find(db, user)
        .await?
        .ok_or(AuthError::UserNotFound)
}

/// Disables or re-enables an account. Disabling ends all of its sessions at once. An admin
/// cannot disable themselves.
pub async fn set_status(
    db: &Db,
    clock: &Clock,
    admin: &Account,
    user: &UserId,
    status: Status,
) -> Result<Account, AuthError> {
    if &admin.id == user && status == Status::Disabled {
        return Err(AuthError::NotOnYourself);
    }
    let target = crate::users::find(db, user)
        .await?
        .ok_or(AuthError::UserNotFound)?;
    if target.status != status {
        let mut tx = db.begin().await?;
        sqlx::query("UPDATE users SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(clock.now().millis())
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?;
        if status == Status::Disabled {
            crate::sessions::end_all_on(&mut tx, user, None).await?;
        }
        audit::record(
            &mut tx,
            clock,
            &actor_of(admin),
            Change {
                action: match status {
                    Status::Disabled => "user.disabled",
                    Status::Active => "user.enabled",
                },
                target_type: "user",
                target_id: user.as_str(),
                before: Some(json!({ "email": target.email.as_str(), "status": target.status })),
                after: Some(json!({ "email": target.email.as_str(), "status": status })),
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(user.id = %user, status = status.as_str(), admin.id = %admin.id, "account status changed");
    }
    crate::users::find(db, user)
        .await?
        .ok_or(AuthError::UserNotFound)
}
