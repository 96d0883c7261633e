//! Getting in and back in: register, sign in, sign out, confirm an address, forgotten and
//! reset password, confirm an email change. Every form is a plain HTML form that works
//! without JavaScript; with JavaScript the same server functions run without a page load.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::{Field, FormError, Submit};
use crate::error::AppError;
use crate::url::login_href;
use crate::viewer::refresh_shell_on_success;

#[cfg(feature = "ssr")]
mod server;

/// Signs up: sends the link that confirms the address and signs the new account in. The
/// answer is the same whether or not the address already has an account (its owner is told
/// by mail instead), so the form cannot be used to find out who shops here. The guest's cart
/// stays in this browser's session and joins the account when the link is opened here.
#[server(endpoint = "account/register")]
pub async fn register(
    display_name: String,
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    server::register(display_name, email, password, next).await
}

/// Signs in and returns to `next` (a page of this site) or the account page.
#[server(endpoint = "account/login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    server::login(email, password, next).await
}

/// Signs out of this session.
#[server(endpoint = "account/logout")]
pub async fn logout() -> Result<(), AppError> {
    server::logout().await
}

/// Sends another confirmation mail to the signed-in user.
#[server(endpoint = "account/resend-verification")]
pub async fn resend_verification() -> Result<(), AppError> {
    server::resend_verification().await
}

/// Confirms an address with the token from the mail.
#[server(endpoint = "account/verify-email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    server::verify_email(token).await
}

/// Asks for a reset link. The answer is the same whether or not the address has an account.
#[server(endpoint = "account/forgot-password")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    server::request_password_reset(email).await
}

/// Whether a reset link can still be used (the page asks before showing the form).
#[server(endpoint = "account/reset-token")]
pub async fn reset_token_valid(token: String) -> Result<bool, AppError> {
    server::reset_token_valid(token).await
}

/// Sets a new password with the token from the reset mail; every session ends.
#[server(endpoint = "account/reset-password")]
pub async fn reset_password(
    token: String,
    password: String,
    password_confirm: String,
) -> Result<(), AppError> {
    server::reset_password(token, password, password_confirm).await
}

/// Moves the account to the new address with the token mailed there.
#[server(endpoint = "account/confirm-email")]
pub async fn confirm_email_change(token: String) -> Result<(), AppError> {
    server::confirm_email_change(token).await
}

/// Stops reminders about abandoned carts for the customer a reminder's link names (`user`,
/// `token`: the link's `u` and `t`). No sign-in needed: the link is signed.
#[server(endpoint = "reminders/stop")]
pub async fn stop_cart_reminders(user: String, token: String) -> Result<(), AppError> {
    server::stop_cart_reminders(user, token).await
}

fn query_value(name: &'static str) -> Memo<Option<String>> {
    let query = use_query_map();
    Memo::new(move |_| query.read().get(name))
}

/// A centred card for the short account forms.
#[component]
fn AuthCard(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! {
        <crate::components::PageTitle text=title.clone() />
        <section class="mx-auto w-full max-w-md" aria-labelledby="auth-title">
            <div class="card p-6 sm:p-8">
                <h1 id="auth-title" class="text-2xl font-bold tracking-tight">
                    {title}
                </h1>
                {children()}
            </div>
        </section>
    }
}

/// `/register`
#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = ServerAction::<Register>::new();
    refresh_shell_on_success(action);
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let next = query_value("next");
    view! {
        <AuthCard title="Create your account">
            <p class="mt-2 text-sm text-stone-600">
                "Already have one? "
                <a class="link" href=move || login_href(&next.get().unwrap_or_default())>"Sign in"</a>
            </p>
            <ActionForm action attr:class="mt-6 space-y-4" attr:novalidate="true">
                <input type="hidden" name="next" value=move || next.get().unwrap_or_default() />
                <FormError error />
                <Field label="Your name" name="display_name" autocomplete="name" error />
                <Field label="Email address" name="email" kind="email" autocomplete="email" error />
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 8 characters. A few unrelated words make a strong password."
                    error
                />
                <Submit label="Create account" busy_label="Creating your account…" pending=action.pending() class="btn btn-primary w-full" />
                <p class="text-sm text-stone-600">"We'll email you a link to confirm your address: opening it finishes creating your account and signs you in."</p>
            </ActionForm>
        </AuthCard>
    }
}

/// `/login`
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    refresh_shell_on_success(action);
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let next = query_value("next");
    let register_href = move || match next.get().and_then(|n| crate::url::safe_next(Some(&n))) {
        Some(n) => format!("/register?next={}", crate::url::urlencode(&n)),
        None => "/register".to_owned(),
    };
    view! {
        <AuthCard title="Sign in">
            <p class="mt-2 text-sm text-stone-600">
                "New here? " <a class="link" href=register_href>"Create an account"</a>
            </p>
            <ActionForm action attr:class="mt-6 space-y-4" attr:novalidate="true">
                <input type="hidden" name="next" value=move || next.get().unwrap_or_default() />
                <FormError error />
                <Field label="Email address" name="email" kind="email" autocomplete="username" error />
                <Field label="Password" name="password" kind="password" autocomplete="current-password" error />
                <Submit label="Sign in" busy_label="Signing in…" pending=action.pending() class="btn btn-primary w-full" />
            </ActionForm>
            <p class="mt-4 text-sm">
                <a class="link" href="/forgot-password">"Forgot your password?"</a>
            </p>
        </AuthCard>
    }
}

/// The sign-out button (a form: signing out changes state, so it is never a link).
#[component]
pub fn LogoutButton() -> impl IntoView {
    let action = ServerAction::<Logout>::new();
    refresh_shell_on_success(action);
    view! {
        <ActionForm action attr:class="inline">
            <button type="submit" class="nav-link" data-testid="sign-out">
                "Sign out"
            </button>
        </ActionForm>
    }
}

/// The "send it again" button for the confirmation mail.
#[component]
pub fn ResendVerification(
    #[prop(default = "btn btn-secondary")] class: &'static str,
) -> impl IntoView {
    let action = ServerAction::<ResendVerification>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <ActionForm action attr:class="inline-flex flex-col gap-1">
            <Submit label="Send the link again" busy_label="Sending…" pending=action.pending() class />
            <FormError error />
        </ActionForm>
    }
}

/// `/verify-email?token=…`: confirming is a button, not the link itself, so mail scanners
/// that open links cannot use up the token.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let action = ServerAction::<VerifyEmail>::new();
    refresh_shell_on_success(action);
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let token = query_value("token");
    view! {
        <AuthCard title="Confirm your email address">
            <p class="mt-2 text-sm text-stone-600">"One click and your address is confirmed."</p>
            <ActionForm action attr:class="mt-6 space-y-4">
                <input type="hidden" name="token" value=move || token.get().unwrap_or_default() />
                <FormError error />
                <Submit label="Confirm my email address" busy_label="Confirming…" pending=action.pending() class="btn btn-primary w-full" />
            </ActionForm>
            <p class="mt-4 text-sm text-stone-600">
                "Link expired? Sign in and ask for a new one from your account page."
            </p>
        </AuthCard>
    }
}

/// `/reminders/stop?u=…&t=…`, from a cart reminder: stopping is a button, not the link, so
/// a mail scanner that opens links stops nothing.
#[component]
pub fn StopRemindersPage() -> impl IntoView {
    let action = ServerAction::<StopCartReminders>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let (user, token) = (query_value("u"), query_value("t"));
    view! {
        <AuthCard title="Stop cart reminders">
            <p class="mt-2 text-sm text-stone-600">
                "We'll no longer email you about carts you leave with items. Mails about your orders and your account still come."
            </p>
            <ActionForm action attr:class="mt-6 space-y-4">
                <input type="hidden" name="user" value=move || user.get().unwrap_or_default() />
                <input type="hidden" name="token" value=move || token.get().unwrap_or_default() />
                <FormError error />
                <Submit label="Stop these emails" busy_label="Stopping…" pending=action.pending() class="btn btn-primary w-full" />
            </ActionForm>
        </AuthCard>
    }
}

/// `/confirm-email?token=…`: moves the account to the new address.
#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let action = ServerAction::<ConfirmEmailChange>::new();
    refresh_shell_on_success(action);
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let token = query_value("token");
    view! {
        <AuthCard title="Confirm your new email address">
            <p class="mt-2 text-sm text-stone-600">
                "Your account will use this address from now on."
            </p>
            <ActionForm action attr:class="mt-6 space-y-4">
                <input type="hidden" name="token" value=move || token.get().unwrap_or_default() />
                <FormError error />
                <Submit label="Use this address" busy_label="Confirming…" pending=action.pending() class="btn btn-primary w-full" />
            </ActionForm>
        </AuthCard>
    }
}

/// `/forgot-password`
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    view! {
        <AuthCard title="Forgot your password?">
            <p class="mt-2 text-sm text-stone-600">
                "Enter the address you signed up with and we'll email you a link to choose a new password."
            </p>
            <ActionForm action attr:class="mt-6 space-y-4" attr:novalidate="true">
                <FormError error />
                <Field label="Email address" name="email" kind="email" autocomplete="email" error />
                <Submit label="Email me a link" busy_label="Sending…" pending=action.pending() class="btn btn-primary w-full" />
            </ActionForm>
            <p class="mt-4 text-sm">
                <a class="link" href="/login">"Back to sign in"</a>
            </p>
        </AuthCard>
    }
}

/// `/reset-password?token=…`
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let token = query_value("token");
    let valid = Resource::new(move || token.get().unwrap_or_default(), reset_token_valid);
    view! {
        <AuthCard title="Choose a new password">
            <Suspense fallback=|| view! { <p class="mt-4 text-sm">"Checking your link…"</p> }>
                {move || Suspend::new(async move {
                    match valid.await {
                        Ok(true) => view! {
                            <ActionForm action attr:class="mt-6 space-y-4" attr:novalidate="true">
                                <input type="hidden" name="token" value=move || token.get().unwrap_or_default() />
                                <FormError error />
                                <Field label="New password" name="password" kind="password" autocomplete="new-password" hint="At least 8 characters." error />
                                <Field label="Repeat the new password" name="password_confirm" kind="password" autocomplete="new-password" error />
                                <Submit label="Save the new password" busy_label="Saving…" pending=action.pending() class="btn btn-primary w-full" />
                            </ActionForm>
                        }.into_any(),
                        Ok(false) => view! {
                            <div role="alert" class="mt-4 text-sm" data-testid="reset-link-invalid">
                                <p>"This link is invalid, has already been used or has expired."</p>
                                <p class="mt-2"><a class="link" href="/forgot-password">"Request a new link"</a></p>
                            </div>
                        }.into_any(),
                        Err(e) => view! { <crate::components::ErrorPanel error=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </AuthCard>
    }
}
