//! The server side of the notification log and the template previews: staff only.

use notifications::log::{self, Filter, ResendError};
use notifications::{Notification, NotificationId, Status, Template};
use shop_core::audit::Actor;

use super::{NotificationRow, NotificationView, NotificationsPage, TemplatePreview, TemplatesView};
use crate::admin::server::{PER_PAGE, page_number};
use crate::components::Tone;
use crate::error::AppError;
use crate::ssr::{
    confirmed, internal, parse_id, redirect_with_flash, require_role, server_context,
};

fn status_label(s: Status) -> &'static str {
    match s {
        Status::Queued => "Queued",
        Status::Sent => "Sent",
        Status::Retrying => "Retrying",
        Status::Failed => "Failed",
    }
}

fn tone(s: Status) -> Tone {
    match s {
        Status::Sent => Tone::Good,
        Status::Queued => Tone::Neutral,
        Status::Retrying | Status::Failed => Tone::Warning,
    }
}

fn template_label(name: &str) -> String {
    Template::parse(name).map_or_else(|| name.to_owned(), |t| t.label().to_owned())
}

fn row(n: Notification) -> NotificationRow {
    NotificationRow {
        id: n.id.to_string(),
        when: n.created_at.to_human(),
        when_at: n.created_at.to_rfc3339(),
        recipient: n.recipient,
        template: template_label(&n.template),
        subject: n.subject,
        status: status_label(n.status).to_owned(),
        tone: tone(n.status),
        attempts: n.attempts,
        last_error: n.last_error.filter(|_| n.status != Status::Sent),
    }
}

pub(crate) async fn list(
    status: Option<String>,
    to: Option<String>,
    template: Option<String>,
    page: Option<String>,
) -> Result<NotificationsPage, AppError> {
    require_role(auth::Role::Admin).await?;
    let ctx = server_context()?;
    let page = page_number(page.as_deref());
    let filter = Filter {
        status: status.as_deref().and_then(Status::parse),
        recipient: to.unwrap_or_default().chars().take(200).collect(),
        template: template.as_deref().and_then(Template::parse),
    };
    let per_page = i64::from(PER_PAGE);
    let (rows, total) = log::list(&ctx.db, &filter, i64::from(page - 1) * per_page, per_page)
        .await
        .map_err(internal)?;
    Ok(NotificationsPage {
        more: i64::from(page) * per_page < total,
        rows: rows.into_iter().map(row).collect(),
        page,
        total,
        statuses: Status::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), status_label(*s).to_owned()))
            .collect(),
        templates: Template::ALL
            .iter()
            .map(|t| (t.name().to_owned(), t.label().to_owned()))
            .collect(),
    })
}

/// The message `id` for staff; 404 when there is none.
pub(crate) async fn message(id: &str) -> Result<Notification, AppError> {
    let ctx = server_context()?;
    let id: NotificationId = parse_id(id)?;
    log::find(&ctx.db, &id)
        .await
        .map_err(internal)?
        .ok_or(AppError::NotFound)
}

pub(crate) async fn find(id: String) -> Result<NotificationView, AppError> {
    require_role(auth::Role::Admin).await?;
    let n = message(&id).await?;
    Ok(NotificationView {
        id: n.id.to_string(),
        template: template_label(&n.template),
        recipient: n.recipient,
        subject: n.subject,
        status: status_label(n.status).to_owned(),
        tone: tone(n.status),
        attempts: n.attempts,
        last_error: n.last_error,
        created: n.created_at.to_human(),
        updated: n.updated_at.to_human(),
        sent: n.sent_at.map(|t| t.to_human()),
        text_body: n.text_body,
        secret: n.secret,
        resend_of: n.resend_of.map(|r| r.to_string()),
    })
}

pub(crate) async fn resend(id: String, confirm: Option<String>) -> Result<(), AppError> {
    let account = require_role(auth::Role::Admin).await?;
    confirmed(confirm)?;
    let ctx = server_context()?;
    let id: NotificationId = parse_id(&id)?;
    let actor = Actor::user(&account.id, account.email.as_str());
    match log::resend(&ctx.db, &ctx.clock, &actor, &id).await {
        Ok(copy) => {
            redirect_with_flash(
                &format!("/admin/notifications/{copy}"),
                "notification_resent",
            );
            Ok(())
        }
        Err(ResendError::NotFound) => Err(AppError::NotFound),
        Err(e @ ResendError::Secret) => Err(AppError::field("id", e.to_string())),
        Err(ResendError::Db(e)) => Err(internal(e)),
    }
}

/// `name` rendered with sample data; `None` for a name that is no template.
pub(crate) fn preview(
    name: &str,
) -> Result<Option<(Template, shop_core::mail::OutgoingEmail)>, AppError> {
    let Some(template) = Template::parse(name) else {
        return Ok(None);
    };
    let ctx = server_context()?;
    notifications::samples::sample(&ctx.shop.mail, template, None)
        .map(|mail| Some((template, mail)))
        .map_err(internal)
}

pub(crate) async fn templates(name: Option<String>) -> Result<TemplatesView, AppError> {
    require_role(auth::Role::Admin).await?;
    let selected = match name.as_deref().map(preview).transpose()?.flatten() {
        Some((t, mail)) => Some(TemplatePreview {
            name: t.name().to_owned(),
            label: t.label().to_owned(),
            subject: mail.subject,
            to: mail.to.as_str().to_owned(),
            text: mail.text,
        }),
        None => None,
    };
    Ok(TemplatesView {
        templates: Template::ALL
            .iter()
            .map(|t| (t.name().to_owned(), t.label().to_owned(), t.for_staff()))
            .collect(),
        selected,
    })
}
