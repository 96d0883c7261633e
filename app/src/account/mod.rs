//! The shopper's account: overview, profile (name, email, password), address book and the
//! list of signed-in sessions. Every page needs a signed-in user; a visitor is sent to the
//! sign-in page and brought back afterwards.

pub mod access;
pub mod addresses;
pub mod orders;
pub mod payment_methods;
#[cfg(feature = "ssr")]
mod server;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::{Field, FormError, Submit};
use crate::error::AppError;
use crate::error_pages::Denied;
use crate::viewer::{Viewer, refresh_shell_on_success};

/// What the account overview shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub viewer: Viewer,
    pub member_since: String,
    pub default_address: Option<Vec<String>>,
    pub address_count: usize,
    pub session_count: usize,
}

/// Loads the account overview.
#[server(endpoint = "account/overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    server::get_overview().await
}

/// Account pages share a heading and a side menu.
#[component]
fn AccountFrame(#[prop(into)] title: String, children: Children) -> impl IntoView {
    let links = [
        ("/account", "Overview"),
        ("/account/profile", "Profile and password"),
        ("/account/orders", "Orders"),
        ("/account/addresses", "Addresses"),
        ("/account/payment-methods", "Payment methods"),
        ("/account/sessions", "Where you're signed in"),
    ];
    let location = leptos_router::hooks::use_location();
    view! {
        <crate::components::PageTitle text=title.clone() />
        <div class="grid gap-8 md:grid-cols-[14rem_1fr]">
            <nav aria-label="Your account" class="text-sm">
                <ul class="space-y-1">
                    {links
                        .into_iter()
                        .map(|(href, label)| {
                            view! {
                                <li>
                                    <a
                                        href=href
                                        aria-current=move || (location.pathname.get() == href).then_some("page")
                                        class="block rounded px-3 py-2 text-stone-700 hover:bg-stone-100 focus-ring aria-[current=page]:bg-stone-900 aria-[current=page]:text-white">
                                        {label}
                                    </a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
            <section aria-labelledby="account-title">
                <h1 id="account-title" class="text-2xl font-bold tracking-tight">
                    {title}
                </h1>
                <div class="mt-6 space-y-8">{children()}</div>
            </section>
        </div>
    }
}

/// `/account`
#[component]
pub fn AccountPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_overview());
    view! {
        <Suspense fallback=|| view! { <p>"Loading your account…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(o) => view! {
                        <AccountFrame title="Your account">
                            <div class="card p-6">
                                <p class="text-lg font-semibold" data-testid="account-name">{o.viewer.name.clone()}</p>
                                <p class="mt-1 text-stone-700" data-testid="account-email">{o.viewer.email.clone()}</p>
                                {if o.viewer.verified {
                                    view! { <p class="mt-2 text-sm text-emerald-800" data-testid="verified">"Email address confirmed"</p> }.into_any()
                                } else {
                                    view! {
                                        <div class="mt-3 rounded-md bg-amber-50 p-3 text-sm text-amber-900" data-testid="unverified">
                                            <p>"Your email address is not confirmed yet. Follow the link we emailed you."</p>
                                            <div class="mt-2"><access::ResendVerification /></div>
                                        </div>
                                    }.into_any()
                                }}
                                <p class="mt-3 text-sm text-stone-500">"Member since " {o.member_since.clone()}</p>
                            </div>
                            <div class="grid gap-4 sm:grid-cols-2">
                                <div class="card p-6">
                                    <h2 class="font-semibold">"Default shipping address"</h2>
                                    {match o.default_address.clone() {
                                        Some(lines) => view! {
                                            <address class="mt-2 not-italic text-sm text-stone-700">
                                                {lines.into_iter().map(|l| view! { <span class="block">{l}</span> }).collect_view()}
                                            </address>
                                        }.into_any(),
                                        None => view! { <p class="mt-2 text-sm text-stone-600">"No address saved yet."</p> }.into_any(),
                                    }}
                                    <a class="link mt-3 inline-block text-sm" href="/account/addresses">
                                        {format!("Manage addresses ({})", o.address_count)}
                                    </a>
                                </div>
                                <div class="card p-6">
                                    <h2 class="font-semibold">"Security"</h2>
                                    <p class="mt-2 text-sm text-stone-700">
                                        {format!("Signed in on {} device{}.", o.session_count, if o.session_count == 1 { "" } else { "s" })}
                                    </p>
                                    <a class="link mt-3 inline-block text-sm" href="/account/sessions">"Review sessions"</a>
                                    <a class="link mt-1 block text-sm" href="/account/profile">"Change password"</a>
                                </div>
                            </div>
                            {o.viewer.is_admin.then(|| view! {
                                <p><a class="btn btn-secondary" href="/admin">"Open the admin dashboard"</a></p>
                            })}
                        </AccountFrame>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Loads the profile form's values.
#[server(endpoint = "account/profile")]
pub async fn get_profile() -> Result<Viewer, AppError> {
    server::get_profile().await
}

/// Changes the display name.
#[server(endpoint = "account/update-name")]
pub async fn update_name(display_name: String) -> Result<(), AppError> {
    server::update_name(display_name).await
}

/// Starts an email change (needs the current password).
#[server(endpoint = "account/change-email")]
pub async fn change_email(email: String, current_password: String) -> Result<(), AppError> {
    server::change_email(email, current_password).await
}

/// Changes the password (needs the current one) and ends every other session.
#[server(endpoint = "account/change-password")]
pub async fn change_password(
    current_password: String,
    password: String,
    password_confirm: String,
) -> Result<(), AppError> {
    server::change_password(current_password, password, password_confirm).await
}

/// `/account/profile`
#[component]
pub fn ProfilePage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_profile());
    let name_action = ServerAction::<UpdateName>::new();
    refresh_shell_on_success(name_action);
    let email_action = ServerAction::<ChangeEmail>::new();
    let password_action = ServerAction::<ChangePassword>::new();
    let name_error = Signal::derive(move || name_action.value().get().and_then(Result::err));
    let email_error = Signal::derive(move || email_action.value().get().and_then(Result::err));
    let password_error =
        Signal::derive(move || password_action.value().get().and_then(Result::err));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(v) => view! {
                        <AccountFrame title="Profile and password">
                            <div class="card p-6">
                                <h2 class="text-lg font-semibold">"Your name"</h2>
                                <ActionForm action=name_action attr:class="mt-4 max-w-md space-y-4" attr:novalidate="true">
                                    <FormError error=name_error />
                                    <Field label="Name" name="display_name" autocomplete="name" value=v.name.clone() error=name_error />
                                    <Submit label="Save name" busy_label="Saving…" pending=name_action.pending() />
                                </ActionForm>
                            </div>
                            <div class="card p-6">
                                <h2 class="text-lg font-semibold">"Email address"</h2>
                                <p class="mt-1 text-sm text-stone-600">
                                    "Now: " <strong data-testid="current-email">{v.email.clone()}</strong>
                                    ". We'll send a link to the new address; the change happens when you follow it, and we'll let the current address know."
                                </p>
                                <ActionForm action=email_action attr:class="mt-4 max-w-md space-y-4" attr:novalidate="true">
                                    <FormError error=email_error />
                                    <Field label="New email address" name="email" kind="email" autocomplete="email" error=email_error id_prefix="change-" />
                                    <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" error=email_error id_prefix="change-email-" />
                                    <Submit label="Change email address" busy_label="Sending link…" pending=email_action.pending() />
                                </ActionForm>
                            </div>
                            <div class="card p-6">
                                <h2 class="text-lg font-semibold">"Password"</h2>
                                <p class="mt-1 text-sm text-stone-600">"Changing it signs you out everywhere else."</p>
                                <ActionForm action=password_action attr:class="mt-4 max-w-md space-y-4" attr:novalidate="true">
                                    <FormError error=password_error />
                                    <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" error=password_error />
                                    <Field label="New password" name="password" kind="password" autocomplete="new-password" hint="At least 8 characters." error=password_error />
                                    <Field label="Repeat the new password" name="password_confirm" kind="password" autocomplete="new-password" error=password_error />
                                    <Submit label="Change password" busy_label="Saving…" pending=password_action.pending() />
                                </ActionForm>
                            </div>
                        </AccountFrame>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A row of the sessions list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    pub key: String,
    pub device: String,
    pub ip: String,
    pub signed_in: String,
    pub last_seen: String,
    pub current: bool,
}

/// A short device description from a User-Agent.
pub fn describe_device(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent else {
        return "Unknown device".to_owned();
    };
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map_or("Browser", |(_, name)| name);
    let os = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| name);
    match os {
        Some(os) => format!("{browser} on {os}"),
        None => browser.to_owned(),
    }
}

/// The signed-in user's sessions.
#[server(endpoint = "account/sessions")]
pub async fn list_sessions() -> Result<Vec<SessionRow>, AppError> {
    server::list_sessions().await
}

/// Signs out one of the user's other sessions.
#[server(endpoint = "account/end-session")]
pub async fn end_session(key: String) -> Result<(), AppError> {
    server::end_session(key).await
}

/// Signs out every session of the user but this one.
#[server(endpoint = "account/end-other-sessions")]
pub async fn end_other_sessions() -> Result<(), AppError> {
    server::end_other_sessions().await
}

/// `/account/sessions`
#[component]
pub fn SessionsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| list_sessions());
    let end_one = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let error = Signal::derive(move || {
        end_one
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| end_others.value().get().and_then(Result::err))
    });
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(rows) => {
                        let others = rows.iter().filter(|r| !r.current).count();
                        view! {
                            <AccountFrame title="Where you're signed in">
                                <FormError error />
                                <ul class="divide-y divide-stone-200 rounded-lg border border-stone-200 bg-white" data-testid="sessions">
                                    {rows.into_iter().map(|r| view! {
                                        <li class="flex flex-wrap items-center justify-between gap-3 p-4">
                                            <div>
                                                <p class="font-medium">
                                                    {r.device.clone()}
                                                    {r.current.then(|| view! { <span class="ml-2 rounded bg-emerald-100 px-2 py-0.5 text-xs text-emerald-900">"This device"</span> })}
                                                </p>
                                                <p class="text-sm text-stone-600">
                                                    {format!("Signed in {} · last active {}{}", r.signed_in, r.last_seen, if r.ip.is_empty() { String::new() } else { format!(" · {}", r.ip) })}
                                                </p>
                                            </div>
                                            {(!r.current).then(|| view! {
                                                <ActionForm action=end_one>
                                                    <input type="hidden" name="key" value=r.key.clone() />
                                                    <button type="submit" class="btn btn-secondary">"Sign out"</button>
                                                </ActionForm>
                                            })}
                                        </li>
                                    }).collect_view()}
                                </ul>
                                {(others > 0).then(|| view! {
                                    <ActionForm action=end_others>
                                        <button type="submit" class="btn btn-primary" data-testid="end-other-sessions">
                                            "Sign out everywhere else"
                                        </button>
                                    </ActionForm>
                                })}
                            </AccountFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_named_from_the_user_agent() {
        assert_eq!(
            describe_device(Some(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
            )),
            "Chrome on Linux"
        );
        assert_eq!(
            describe_device(Some(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1"
            )),
            "Safari on iPhone"
        );
        assert_eq!(describe_device(None), "Unknown device");
    }
}
