//! `/admin/notifications`: every mail the shop sent or is sending (recipient, template,
//! subject, status, attempts, last error, times), filtered by status, template and
//! recipient; each opens as it was sent (`/admin/notifications/:id`, the HTML part in a
//! sandboxed frame, the text part as text) and can be resent. `/admin/mail-templates`
//! previews every template with sample data.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use super::AdminFrame;
use crate::components::{
    Badge, Column, DataTable, FilterBar, FilterSelect, FilterText, FormError, Pager, Tone,
};
use crate::error::AppError;
use crate::error_pages::Denied;

#[cfg(feature = "ssr")]
pub(crate) mod server;

/// A message as the log lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRow {
    pub id: String,
    pub when: String,
    pub when_at: String,
    pub recipient: String,
    /// The template's label.
    pub template: String,
    pub subject: String,
    pub status: String,
    pub tone: Tone,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// A page of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationsPage {
    pub rows: Vec<NotificationRow>,
    pub page: u32,
    pub more: bool,
    pub total: i64,
    pub statuses: Vec<(String, String)>,
    pub templates: Vec<(String, String)>,
}

/// One message, as it was sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationView {
    pub id: String,
    pub template: String,
    pub recipient: String,
    pub subject: String,
    pub status: String,
    pub tone: Tone,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created: String,
    pub updated: String,
    pub sent: Option<String>,
    pub text_body: String,
    /// It held a one-time link (masked here) and is not resent.
    pub secret: bool,
    pub resend_of: Option<String>,
}

/// A template rendered with sample data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplatePreview {
    pub name: String,
    pub label: String,
    pub subject: String,
    pub to: String,
    pub text: String,
}

/// The template list, and the one asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplatesView {
    /// (name, label, for staff)
    pub templates: Vec<(String, String, bool)>,
    pub selected: Option<TemplatePreview>,
}

/// Lists the log, newest first: only messages with `status` and `template`, and whose
/// recipient contains `to` (unknown values filter nothing).
#[server(endpoint = "admin/notifications")]
pub async fn list_notifications(
    status: Option<String>,
    to: Option<String>,
    template: Option<String>,
    page: Option<String>,
) -> Result<NotificationsPage, AppError> {
    server::list(status, to, template, page).await
}

/// One message of the log.
#[server(endpoint = "admin/notification")]
pub async fn notification(id: String) -> Result<NotificationView, AppError> {
    server::find(id).await
}

/// Sends a message again, as a new message of the log, and opens that one.
#[server(endpoint = "admin/notification-resend")]
pub async fn resend_notification(id: String, confirm: Option<String>) -> Result<(), AppError> {
    server::resend(id, confirm).await
}

/// The templates, with `name` rendered for sample data.
#[server(endpoint = "admin/mail-templates")]
pub async fn mail_templates(name: Option<String>) -> Result<TemplatesView, AppError> {
    server::templates(name).await
}

/// `/admin/notifications`
#[component]
pub fn AdminNotificationsPage() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        let q = query.read();
        (
            q.get("status"),
            q.get("to"),
            q.get("template"),
            q.get("page"),
        )
    };
    let data = Resource::new(params, |(status, to, template, page)| {
        list_notifications(status, to, template, page)
    });
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (status, to, template, _) = params();
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(p) => {
                        let filtered = [&status, &to, &template].into_iter().flatten().any(|v| !v.trim().is_empty());
                        let filters = vec![("status", status.clone()), ("to", to.clone()), ("template", template.clone())];
                        view! {
                            <AdminFrame title="Notifications">
                                <p class="text-sm">
                                    <a class="link" href="/admin/mail-templates" data-testid="mail-templates">"Preview the mail templates"</a>
                                </p>
                                <FilterBar action="/admin/notifications">
                                    <FilterSelect id="notifications-status" name="status" label="Status" current=status.clone() options=p.statuses />
                                    <FilterSelect id="notifications-template" name="template" label="Template" current=template.clone() options=p.templates />
                                    <FilterText id="notifications-to" name="to" label="Recipient" value=to.clone() class="input mt-1 w-64" />
                                </FilterBar>
                                <p class="text-sm text-stone-600" data-testid="notifications-total">{format!("{} message{}", p.total, if p.total == 1 { "" } else { "s" })}</p>
                                <NotificationsTable rows=p.rows filtered />
                                <Pager base="/admin/notifications" filters page=p.page more=p.more />
                            </AdminFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn NotificationsTable(rows: Vec<NotificationRow>, filtered: bool) -> impl IntoView {
    if rows.is_empty() {
        let text = if filtered {
            "No messages match these filters."
        } else {
            "No messages yet."
        };
        return view! { <p class="text-stone-600" data-testid="notifications-empty">{text}</p> }
            .into_any();
    }
    let columns = [
        "When",
        "Recipient",
        "Template",
        "Subject",
        "Status",
        "Attempts",
    ]
    .map(Column::new)
    .to_vec();
    view! {
        <DataTable columns testid="notifications">
            {rows.into_iter().map(|n| view! {
                <tr>
                    <td class="whitespace-nowrap px-3 py-2"><time datetime=n.when_at>{n.when}</time></td>
                    <td class="break-all px-3 py-2">{n.recipient}</td>
                    <td class="px-3 py-2">{n.template}</td>
                    <td class="px-3 py-2"><a class="link" href=format!("/admin/notifications/{}", n.id)>{n.subject}</a></td>
                    <td class="px-3 py-2">
                        <Badge tone=n.tone>{n.status}</Badge>
                        {n.last_error.map(|e| view! { <span class="block max-w-xs text-xs text-stone-600">{e}</span> })}
                    </td>
                    <td class="px-3 py-2 tabular-nums">{n.attempts}</td>
                </tr>
            }).collect_view()}
        </DataTable>
    }
    .into_any()
}

/// `/admin/notifications/:id`
#[component]
pub fn AdminNotificationPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let resend = ServerAction::<ResendNotification>::new();
    let data = Resource::new(
        move || (id(), resend.version().get()),
        |(id, _)| notification(id),
    );
    let error = Signal::derive(move || resend.value().get().and_then(Result::err));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(n) => {
                        let frame = format!("/admin/notifications/{}/html", n.id);
                        let id = n.id.clone();
                        view! {
                            <AdminFrame title=n.subject.clone()>
                                <p class="text-sm"><a class="link" href="/admin/notifications">"All notifications"</a></p>
                                <FormError error />
                                <dl class="grid max-w-2xl grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm" data-testid="notification">
                                    <dt class="font-medium">"To"</dt><dd class="break-all" data-testid="notification-to">{n.recipient.clone()}</dd>
                                    <dt class="font-medium">"Template"</dt><dd>{n.template.clone()}</dd>
                                    <dt class="font-medium">"Status"</dt><dd><Badge tone=n.tone testid="notification-status">{n.status.clone()}</Badge></dd>
                                    <dt class="font-medium">"Attempts"</dt><dd class="tabular-nums">{n.attempts}</dd>
                                    <dt class="font-medium">"Last error"</dt><dd class="break-all">{n.last_error.clone().unwrap_or_else(|| "—".to_owned())}</dd>
                                    <dt class="font-medium">"Queued"</dt><dd>{n.created.clone()}</dd>
                                    <dt class="font-medium">"Last change"</dt><dd>{n.updated.clone()}</dd>
                                    <dt class="font-medium">"Sent"</dt><dd>{n.sent.clone().unwrap_or_else(|| "Not yet".to_owned())}</dd>
                                    {n.resend_of.clone().map(|of| view! {
                                        <dt class="font-medium">"Resent from"</dt><dd><a class="link" href=format!("/admin/notifications/{of}")>"the original message"</a></dd>
                                    })}
                                </dl>
                                {if n.secret {
                                    view! { <p class="text-sm text-stone-700" data-testid="notification-secret">"This message held a one-time link, which the log does not keep. It is not resent: the customer can ask for a new link."</p> }.into_any()
                                } else {
                                    view! {
                                        <ActionForm action=resend attr:class="flex flex-wrap items-center gap-3" attr:data-testid="resend-form">
                                            <input type="hidden" name="id" value=id />
                                            <label class="flex items-center gap-2 text-sm" for="resend-confirm">
                                                <input id="resend-confirm" type="checkbox" name="confirm" value="yes" required />
                                                "Send this message to the recipient again"
                                            </label>
                                            <button type="submit" class="btn btn-secondary" data-testid="resend">"Resend"</button>
                                        </ActionForm>
                                    }.into_any()
                                }}
                                <section class="space-y-2">
                                    <h2 class="text-lg font-semibold">"HTML part"</h2>
                                    <iframe src=frame title="The message's HTML part, as sent" sandbox="" class="h-[36rem] w-full rounded-lg border border-stone-200 bg-white" data-testid="notification-html"></iframe>
                                </section>
                                <section class="space-y-2">
                                    <h2 class="text-lg font-semibold">"Text part"</h2>
                                    <pre class="overflow-x-auto whitespace-pre-wrap rounded-lg border border-stone-200 bg-white p-4 text-sm" data-testid="notification-text">{n.text_body.clone()}</pre>
                                </section>
                            </AdminFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/admin/mail-templates`
#[component]
pub fn AdminMailTemplatesPage() -> impl IntoView {
    let query = use_query_map();
    let name = move || query.read().get("t");
    let data = Resource::new(name, mail_templates);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(v) => view! {
                        <AdminFrame title="Mail templates">
                            <p class="text-sm"><a class="link" href="/admin/notifications">"All notifications"</a></p>
                            <p class="max-w-2xl text-sm text-stone-700">"Every mail the shop sends, rendered with sample data: the HTML part as mail clients show it, and the plain-text part."</p>
                            <div class="grid gap-6 lg:grid-cols-[16rem_1fr]">
                                <nav aria-label="Templates">
                                    <ul class="space-y-1 text-sm" data-testid="template-list">
                                        {v.templates.into_iter().map(|(name, label, staff)| view! {
                                            <li>
                                                <a class="link" href=format!("/admin/mail-templates?t={name}")>{label}</a>
                                                {staff.then(|| view! { <span class="ml-1 text-xs text-stone-600">"(staff)"</span> })}
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                </nav>
                                {match v.selected {
                                    None => view! { <p class="text-stone-600">"Choose a template to preview it."</p> }.into_any(),
                                    Some(t) => view! {
                                        <div class="space-y-4" data-testid="template-preview">
                                            <h2 class="text-lg font-semibold">{t.label}</h2>
                                            <dl class="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
                                                <dt class="font-medium">"Subject"</dt><dd data-testid="template-subject">{t.subject}</dd>
                                                <dt class="font-medium">"To"</dt><dd>{t.to}</dd>
                                            </dl>
                                            <iframe src=format!("/admin/mail-templates/{}/html", t.name) title="The template's HTML part" sandbox="" class="h-[36rem] w-full rounded-lg border border-stone-200 bg-white" data-testid="template-html"></iframe>
                                            <pre class="overflow-x-auto whitespace-pre-wrap rounded-lg border border-stone-200 bg-white p-4 text-sm" data-testid="template-text">{t.text}</pre>
                                        </div>
                                    }.into_any(),
                                }}
                            </div>
                        </AdminFrame>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
