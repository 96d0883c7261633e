//! The server side of the webhooks pages: the endpoints with their recent outcomes, one
//! endpoint with its secret and delivery log, saving one from the form as posted, the test
//! button and deleting. Each checks the admin role first.

use std::collections::HashMap;

use notifications::webhooks::{
    self, Delivery, DeliveryStatus, Endpoint, EndpointInput, WebhookError,
};

use super::{DeliveryView, EndpointView, WebhookPage, WebhooksPage};
use crate::error::AppError;
use crate::ssr::{confirmed, internal, redirect_with_flash, require_role, server_context};

/// The start of an event checkbox's name: `event_order.paid`.
const EVENT_PREFIX: &str = "event_";

impl From<WebhookError> for AppError {
    fn from(e: WebhookError) -> AppError {
        match e {
            WebhookError::Invalid { field, message } => AppError::field(field, message),
            WebhookError::NotFound => AppError::NotFound,
            WebhookError::Db(e) => internal(e),
        }
    }
}

fn actor(account: &auth::Account) -> shop_core::audit::Actor {
    shop_core::audit::Actor::user(&account.id, account.email.as_str())
}

fn view(e: Endpoint, log: &[Delivery]) -> EndpointView {
    let count = |s: DeliveryStatus| log.iter().filter(|d| d.status == s).count();
    let parts: Vec<String> = [
        (DeliveryStatus::Delivered, "delivered"),
        (DeliveryStatus::Failed, "failed"),
        (DeliveryStatus::Pending, "pending"),
    ]
    .into_iter()
    .filter_map(|(s, label)| {
        let n = count(s);
        (n > 0).then(|| format!("{n} {label}"))
    })
    .collect();
    EndpointView {
        id: e.id,
        url: e.url,
        description: e.description,
        events: e.events,
        active: e.active,
        recent: if parts.is_empty() {
            "none yet".to_owned()
        } else {
            parts.join(" · ")
        },
    }
}

fn events() -> Vec<String> {
    webhooks::EVENTS.iter().map(|e| (*e).to_owned()).collect()
}

pub(super) async fn list_webhooks() -> Result<WebhooksPage, AppError> {
    require_role(auth::Role::Admin).await?;
    let ctx = server_context()?;
    let mut endpoints = Vec::new();
    for e in webhooks::list(&ctx.db).await.map_err(internal)? {
        let log = webhooks::deliveries(&ctx.db, &e.id, 50)
            .await
            .map_err(internal)?;
        endpoints.push(view(e, &log));
    }
    Ok(WebhooksPage {
        endpoints,
        events: events(),
    })
}

pub(super) async fn get_webhook(id: String) -> Result<WebhookPage, AppError> {
    require_role(auth::Role::Admin).await?;
    let ctx = server_context()?;
    let endpoint = webhooks::find(&ctx.db, &id)
        .await
        .map_err(internal)?
        .ok_or(AppError::NotFound)?;
    let log = webhooks::deliveries(&ctx.db, &endpoint.id, 100)
        .await
        .map_err(internal)?;
    let secret = endpoint.secret.clone();
    let deliveries = log
        .iter()
        .map(|d| DeliveryView {
            event_type: d.event_type.clone(),
            event_id: d.event_id.clone(),
            status: match d.status {
                DeliveryStatus::Delivered => "Delivered",
                DeliveryStatus::Failed => "Failed",
                DeliveryStatus::Pending => "Pending",
            }
            .to_owned(),
            attempts: d.attempts,
            response: d
                .response_code
                .map_or_else(|| "—".to_owned(), |c| c.to_string()),
            error: d.error.clone().unwrap_or_default(),
            duration: d
                .duration_ms
                .map_or_else(String::new, |ms| format!("{ms} ms")),
            when: d.last_attempt_at.unwrap_or(d.created_at).to_human(),
        })
        .collect();
    Ok(WebhookPage {
        endpoint: view(endpoint, &log),
        secret,
        events: events(),
        deliveries,
    })
}

#[tracing::instrument(skip_all)]
pub(super) async fn save_webhook(form: HashMap<String, String>) -> Result<(), AppError> {
    let admin = require_role(auth::Role::Admin).await?;
    let ctx = server_context()?;
    let mut events = Vec::new();
    for (name, value) in &form {
        match name.as_str() {
            "id" | "url" | "description" | "active" => {}
            other => match other.strip_prefix(EVENT_PREFIX) {
                Some(event) if value == "on" => events.push(event.to_owned()),
                _ => return Err(AppError::form("The form holds a field it should not.")),
            },
        }
    }
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let input = EndpointInput {
        url: field("url"),
        description: field("description"),
        events,
        active: form.get("active").is_some_and(|v| v == "on"),
    };
    let policy = ctx.webhooks.policy();
    let id = field("id");
    let saved = if id.is_empty() {
        webhooks::create(&ctx.db, &ctx.clock, &actor(&admin), policy, &input).await?
    } else {
        webhooks::update(&ctx.db, &ctx.clock, &actor(&admin), policy, &id, &input).await?
    };
    redirect_with_flash(&format!("/admin/webhooks/{}", saved.id), "webhook_saved");
    Ok(())
}

#[tracing::instrument(skip_all, fields(webhook.id = %id))]
pub(super) async fn test_webhook(id: String) -> Result<(), AppError> {
    require_role(auth::Role::Admin).await?;
    let ctx = server_context()?;
    let sent = webhooks::send_test(&ctx.db, &ctx.clock, &ctx.webhooks, &id).await?;
    let flash = if sent.status == DeliveryStatus::Delivered {
        "webhook_test_delivered"
    } else {
        "webhook_test_failed"
    };
    redirect_with_flash(&format!("/admin/webhooks/{id}"), flash);
    Ok(())
}

#[tracing::instrument(skip_all, fields(webhook.id = %id))]
pub(super) async fn delete_webhook(id: String, confirm: Option<String>) -> Result<(), AppError> {
    let admin = require_role(auth::Role::Admin).await?;
    confirmed(confirm)?;
    let ctx = server_context()?;
    webhooks::delete(&ctx.db, &ctx.clock, &actor(&admin), &id).await?;
    redirect_with_flash("/admin/webhooks", "webhook_deleted");
    Ok(())
}
