//! The server side of the users pages: the search, one account with its sessions and
//! history, and the role and status changes. Each checks the admin role first.

use super::{UserDetail, UserRow, UsersPage};
use crate::admin::audit_row;
use crate::admin::server::PER_PAGE;
use crate::error::AppError;
use crate::ssr::{internal, redirect_with_flash, require_role, server_context};

fn user_row(u: auth::admin::UserSummary) -> UserRow {
    UserRow {
        id: u.id.as_str().to_owned(),
        email: u.email,
        name: u.display_name,
        roles: u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        active: u.status == auth::Status::Active,
        verified: u.verified,
        joined: u.created_at.to_human(),
    }
}

fn user_id(id: &str) -> Result<auth::UserId, AppError> {
    auth::UserId::parse(id).map_err(|_| AppError::NotFound)
}

pub(super) async fn list_users(
    q: Option<String>,
    role: Option<String>,
    status: Option<String>,
    page: Option<String>,
) -> Result<UsersPage, AppError> {
    let ctx = server_context()?;
    require_role(auth::Role::Admin).await?;
    let page = crate::admin::page_number(page.as_deref());
    let query = auth::admin::UserQuery {
        text: q.filter(|s| !s.trim().is_empty()),
        role: role.as_deref().and_then(auth::Role::parse),
        status: status.as_deref().and_then(auth::Status::parse),
        page,
        per_page: PER_PAGE,
    };
    let (rows, total) = auth::admin::search(&ctx.db, &query).await?;
    let pages =
        u32::try_from((total.max(1) + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE)).unwrap_or(1);
    Ok(UsersPage {
        rows: rows.into_iter().map(user_row).collect(),
        total,
        page,
        pages,
    })
}

pub(super) async fn get_user(id: String) -> Result<UserDetail, AppError> {
    let ctx = server_context()?;
    let admin = require_role(auth::Role::Admin).await?;
    let id = user_id(&id)?;
    let account = auth::find(&ctx.db, &id)
        .await
        .map_err(internal)?
        .ok_or(AppError::NotFound)?;
    let sessions = auth::sessions::list(&ctx.db, &ctx.clock, &id).await?;
    let (history, _) = shop_core::audit::list(
        &ctx.db,
        &shop_core::audit::Filter {
            target: Some(("user".to_owned(), id.as_str().to_owned())),
            ..Default::default()
        },
        1,
        50,
    )
    .await
    .map_err(internal)?;
    Ok(UserDetail {
        user: UserRow {
            id: account.id.as_str().to_owned(),
            email: account.email.as_str().to_owned(),
            name: account.display_name.clone(),
            roles: account
                .roles
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            active: account.status == auth::Status::Active,
            verified: account.is_verified(),
            joined: account.created_at.to_human(),
        },
        sessions: sessions.len(),
        history: history.into_iter().map(audit_row).collect(),
        is_self: admin.id == account.id,
    })
}

pub(super) async fn set_user_role(
    user_id: String,
    role: String,
    grant: String,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let admin = require_role(auth::Role::Admin).await?;
    let id = self::user_id(&user_id)?;
    let role = auth::Role::parse(&role).ok_or_else(|| AppError::form("Unknown role."))?;
    if grant == "1" {
        auth::admin::grant_role(&ctx.db, &ctx.clock, &admin, &id, role).await
    } else {
        auth::admin::revoke_role(&ctx.db, &ctx.clock, &admin, &id, role).await
    }?;
    redirect_with_flash(&format!("/admin/users/{}", id.as_str()), "user_updated");
    Ok(())
}

pub(super) async fn set_user_status(user_id: String, status: String) -> Result<(), AppError> {
    let ctx = server_context()?;
    let admin = require_role(auth::Role::Admin).await?;
    let id = self::user_id(&user_id)?;
    let status = auth::Status::parse(&status).ok_or_else(|| AppError::form("Unknown status."))?;
    auth::admin::set_status(&ctx.db, &ctx.clock, &admin, &id, status).await?;
    redirect_with_flash(&format!("/admin/users/{}", id.as_str()), "user_updated");
    Ok(())
}
