//! The Leptos application: every page of the shop, admin and analytics dashboards, and the
//! server functions behind them. Pages are rendered on the server (complete HTML, usable with
//! JavaScript off) and hydrated in the browser.
#![recursion_limit = "256"]

pub mod components;
pub mod error;
pub mod home;
pub mod layout;
pub mod newsletter;
pub mod shell;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, StaticSegment};

pub use error::AppError;
#[cfg(feature = "ssr")]
pub use shell::shell;

/// The application: layout around the routed page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let shell_data = Resource::new(|| (), |_| layout::get_shell_data());
    provide_context(shell_data);

    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let shop = shell_data.await.map(|d| d.shop_name).unwrap_or_default();
                view! {
                    <Title formatter=move |page: String| {
                        if page.is_empty() { shop.clone() } else { format!("{page} · {shop}") }
                    } />
                }
            })}
        </Suspense>
        <Router>
            <layout::Layout>
                // Async: the whole page is rendered before the first byte is sent, so it is
                // complete without JavaScript and each page can set its own status code.
                <Routes fallback=|| view! { <layout::NotFound /> }>
                    <Route path=StaticSegment("") view=home::HomePage ssr=SsrMode::Async />
                </Routes>
            </layout::Layout>
        </Router>
    }
}
