//! The page frame every shop page shares: skip link, header (shop name, search, category
//! navigation, cart and account links), the page itself, and the footer.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::newsletter::NewsletterForm;

#[cfg(feature = "ssr")]
mod server;

/// A top-level category link in the header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NavCategory {
    pub name: String,
    pub slug: String,
}

/// What the frame needs from the server, the same for every shopper.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShellData {
    pub shop_name: String,
    pub categories: Vec<NavCategory>,
}

/// Loads the frame's data.
#[server(endpoint = "shell")]
pub async fn get_shell_data() -> Result<ShellData, AppError> {
    server::get_shell_data().await
}

/// The frame's parts that belong to one shopper: who is signed in, and their cart.
///
/// A page is rendered without them: its header holds two empty slots (`data-frame="nav"`
/// and `data-frame="notice"`), which the server fills for whoever asked ([`frame`]) after the
/// render. So a catalog page renders the same for everyone and the server's page cache can
/// keep one copy of it for visitors and shoppers alike. In the browser, on a page with
/// islands, [`crate::client::start`] renders them again from the data the server left in them
/// and keeps them current.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shopper {
    /// Who is signed in, if anyone.
    pub viewer: Option<crate::viewer::Viewer>,
    /// The header's cart count and summary.
    pub cart: crate::cart::MiniCart,
}

/// The asker's part of the frame (reloaded after actions that change it).
#[server(endpoint = "shopper")]
pub async fn get_shopper() -> Result<Shopper, AppError> {
    server::shopper().await
}

/// The attribute that marks the frame's slots.
pub const FRAME_SLOT_ATTRIBUTE: &str = "data-frame";
/// The attribute on the filled nav slot's content that carries the [`Shopper`] as JSON.
pub const SHOPPER_ATTRIBUTE: &str = "data-shopper";

/// The frame's filled slots for one shopper, as HTML.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frame {
    /// For `data-frame="nav"`: account links and the cart.
    pub nav: String,
    /// For `data-frame="notice"`: the reminder to confirm the email address.
    pub notice: String,
    /// The shopper is the shop's staff (an admin or a vendor): their visits are not counted.
    pub staff: bool,
}

#[cfg(feature = "ssr")]
pub use server::{frame, render_frame};

pub type ShellResource = Resource<Result<ShellData, AppError>>;

fn shell_resource() -> ShellResource {
    expect_context::<ShellResource>()
}

/// After a plain form post (JavaScript off, or before the page's islands woke) failed, the
/// server keeps the server function's error in the session and hands it to the next page
/// render (never in the URL, where links could forge it). Forms anywhere in the frame (the
/// footer's newsletter form is outside the routed page) pick it up from this context. The
/// page carries it in `data-form-error` on `<main>` so the islands see, as they hydrate, the
/// same error the server rendered in them (see [`crate::client::start`]).
#[cfg(feature = "ssr")]
fn provide_form_error() -> Option<String> {
    let carried = use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<FormErrorFlash>().cloned())
        .map(|f| format!("{} {}", f.path, f.error))?;
    let (path, err) = carried.split_once(' ')?;
    provide_context(leptos::server::ServerActionError::new(path, err));
    Some(carried)
}

/// A failed plain form post's error for the page it returns to: the server function's path
/// and its error as Leptos encodes it. Put in the request by the server's middleware.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormErrorFlash {
    pub path: String,
    pub error: String,
}

/// Header, main landmark and footer around `children`.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    // Rendered on the server only (the layout is no island).
    #[cfg(feature = "ssr")]
    let form_error = provide_form_error();
    #[cfg(not(feature = "ssr"))]
    let form_error: Option<String> = None;
    // The admin has a frame of its own: no department bar and no newsletter footer, which
    // are for shoppers.
    let location = leptos_router::hooks::use_location();
    let admin = Memo::new(move |_| {
        let path = location.pathname.get();
        path == "/admin" || path.starts_with("/admin/")
    });
    view! {
        <a
            href="#main"
            class="sr-only focus:not-sr-only focus:absolute focus:left-4 focus:top-4 focus:z-50 focus:rounded focus:bg-white focus:px-4 focus:py-2 focus:shadow"
        >
            "Skip to content"
        </a>
        <Header admin />
        // Filled by the server for whoever asked (see `Shopper`).
        <div data-frame="notice"></div>
        <main
            id="main"
            class="mx-auto w-full max-w-6xl flex-1 px-4 py-8 sm:px-6"
            data-form-error=form_error
        >
            <crate::flash::FlashBanner />
            {children()}
        </main>
        {move || if admin.get() {
            view! { <AdminFooter /> }.into_any()
        } else {
            view! { <Footer /> }.into_any()
        }}
    }
}

#[component]
fn Header(admin: Memo<bool>) -> impl IntoView {
    let data = shell_resource();
    view! {
        <header class="border-b border-stone-200 bg-white print:hidden">
            <div class="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-3 px-4 py-4 sm:px-6">
                <a
                    href="/"
                    class="text-xl font-bold tracking-tight text-stone-900 focus-ring rounded"
                    data-testid="shop-name"
                >
                    <Suspense fallback=|| "Shop">
                        {move || Suspend::new(async move {
                            data.await.map(|d| d.shop_name).unwrap_or_else(|_| "Shop".to_owned())
                        })}
                    </Suspense>
                </a>
                <form
                    role="search"
                    action="/search"
                    method="get"
                    class="order-last flex w-full items-center sm:order-none sm:w-auto sm:flex-1"
                >
                    <label for="site-search" class="sr-only">
                        "Search products"
                    </label>
                    <input
                        id="site-search"
                        type="search"
                        name="q"
                        placeholder="Search products"
                        autocomplete="off"
                        class="input w-full rounded-r-none"
                    />
                    <button type="submit" class="btn btn-primary rounded-l-none">
                        "Search"
                    </button>
                </form>
                // Filled by the server for whoever asked (see `Shopper`).
                <nav
                    aria-label="Account"
                    class="ml-auto flex items-center gap-4 text-sm font-medium"
                    data-frame="nav"
                ></nav>
            </div>
            {move || (!admin.get()).then(|| view! { <CategoryBar /> })}
        </header>
    }
}

/// The shop's departments under the header.
#[component]
fn CategoryBar() -> impl IntoView {
    let data = shell_resource();
    view! {
            <nav aria-label="Categories" class="border-t border-stone-100">
                <ul class="mx-auto flex max-w-6xl gap-1 overflow-x-auto px-4 py-2 text-sm sm:px-6 lg:flex-wrap lg:overflow-visible">
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            data.await
                                .map(|d| d.categories)
                                .unwrap_or_default()
                                .into_iter()
                                .map(|c| {
                                    view! {
                                        <li>
                                            <a
                                                href=format!("/c/{}", c.slug)
                                                class="block whitespace-nowrap rounded px-3 py-1.5 text-stone-700 hover:bg-stone-100 hover:text-stone-900 focus-ring"
                                            >
                                                {c.name}
                                            </a>
                                        </li>
                                    }
                                })
                                .collect_view()
                        })}
                    </Suspense>
                </ul>
            </nav>
    }
}

/// The nav slot's content for `shopper`: the admin or vendor link, the account link and the
/// sign-out button (or the sign-in and register links), and the cart.
#[component]
pub fn ShopperNav(shopper: Shopper, on_cart_page: bool) -> impl IntoView {
    let Shopper { viewer, cart } = shopper;
    let account = match viewer {
        Some(viewer) => view! {
            {if viewer.is_admin {
                Some(view! { <a href="/admin" class="nav-link" data-testid="admin-link">"Admin"</a> }.into_any())
            } else if viewer.is_vendor {
                Some(view! { <a href="/admin/products" class="nav-link" data-testid="vendor-link">"Your products"</a> }.into_any())
            } else {
                None
            }}
            <a href="/account" class="nav-link" data-testid="account-link">
                <span class="sr-only">"Your account: "</span>
                {viewer.name}
            </a>
            <crate::account::access::LogoutButton />
        }
        .into_any(),
        None => view! {
            <a href="/login" class="nav-link" data-testid="sign-in-link">"Sign in"</a>
            <a href="/register" class="nav-link">"Create account"</a>
        }
        .into_any(),
    };
    view! {
        {account}
        <crate::cart::CartNav cart on_cart_page />
    }
}

/// The notice slot's content: reminds a signed-in user whose address is not confirmed yet,
/// with a button to send the link again.
#[component]
pub fn VerifyNotice(shopper: Shopper) -> impl IntoView {
    shopper.viewer.filter(|v| !v.verified).map(|v| {
        view! {
            <div class="border-b border-amber-200 bg-amber-50" data-testid="verify-banner">
                <div class="mx-auto flex max-w-6xl flex-wrap items-center gap-3 px-4 py-2 text-sm text-amber-950 sm:px-6">
                    <p>{format!("Please confirm your email address: we sent a link to {}.", v.email)}</p>
                    <crate::account::access::ResendVerification class="btn btn-secondary py-1" />
                </div>
            </div>
        }
    })
}

#[component]
fn Footer() -> impl IntoView {
    let data = shell_resource();
    view! {
        <footer class="mt-16 border-t border-stone-200 bg-white print:hidden">
            <div class="mx-auto grid max-w-6xl gap-8 px-4 py-10 sm:grid-cols-2 sm:px-6">
                <NewsletterForm />
                <div class="text-sm text-stone-600 sm:text-right">
                    <p>
                        "© "
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                data.await.map(|d| d.shop_name).unwrap_or_default()
                            })}
                        </Suspense>
                    </p>
                    <p class="mt-2">"Prices include VAT. Secure checkout by Stripe."</p>
                </div>
            </div>
        </footer>
    }
}

/// The admin's footer: a way back to the shop, no newsletter.
#[component]
fn AdminFooter() -> impl IntoView {
    view! {
        <footer class="mt-16 border-t border-stone-200 bg-white print:hidden">
            <div class="mx-auto flex max-w-6xl items-center justify-between px-4 py-6 text-sm text-stone-600 sm:px-6">
                <p>"Shop administration"</p>
                <a href="/" class="link">"View the shop"</a>
            </div>
        </footer>
    }
}
