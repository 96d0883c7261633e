//! The newsletter sign-up in the footer: a plain HTML form that, with JavaScript on,
//! submits in place.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::FieldError;
use crate::error::AppError;

#[cfg(feature = "ssr")]
mod server;

/// What the shopper is told after signing up (the same whether or not they already were, so
/// the form does not reveal who is on the list).
pub const THANKS: &str = "Thanks! Look out for a welcome email.";

/// Adds an address to the newsletter list.
#[server(endpoint = "newsletter/subscribe")]
pub async fn subscribe(email: String) -> Result<(), AppError> {
    server::subscribe(email).await
}

/// The sign-up form.
#[component]
pub fn NewsletterForm() -> impl IntoView {
    let action = ServerAction::<Subscribe>::new();
    let query = use_query_map();
    // After a plain form post (JavaScript off) the outcome arrives in the URL.
    let flashed = move || query.read().get("flash").as_deref() == Some("subscribed");
    let done = move || matches!(action.value().get(), Some(Ok(()))) || flashed();
    let error = move || action.value().get().and_then(Result::err);

    view! {
        <section id="newsletter" aria-labelledby="newsletter-title">
            <h2 id="newsletter-title" class="font-semibold">"Get the newsletter"</h2>
            <p class="mt-1 text-sm text-stone-600">"New arrivals and restocks, about twice a month."</p>
            <Show
                when=done
                fallback=move || {
                    view! {
                        <ActionForm action attr:class="mt-3 flex max-w-md gap-2" attr:novalidate="true">
                            <div class="flex-1">
                                <label for="newsletter-email" class="sr-only">"Email address"</label>
                                <input
                                    id="newsletter-email"
                                    type="email"
                                    name="email"
                                    required
                                    autocomplete="email"
                                    placeholder="you@example.com"
                                    class="input w-full"
                                    aria-describedby="newsletter-error"
                                    aria-invalid=move || error().and_then(|e| e.message_for("email")).is_some().to_string()
                                />
                                {move || {
                                    let message = error().map(|e| e.message_for("email").unwrap_or_else(|| e.to_string()));
                                    view! { <FieldError id="newsletter-error" message /> }
                                }}
                            </div>
                            <button type="submit" class="btn btn-primary" disabled=move || action.pending().get()>
                                {move || if action.pending().get() { "Signing up…" } else { "Sign up" }}
                            </button>
                        </ActionForm>
                    }
                }
            >
                <p role="status" class="mt-3 text-sm font-medium text-emerald-800" data-testid="newsletter-thanks">
                    {THANKS}
                </p>
            </Show>
        </section>
    }
}
