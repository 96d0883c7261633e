//! The browser's side of a page, run once before its islands hydrate (see `frontend`).
//!
//! Pages are rendered on the server only. A page with nothing interactive loads no wasm at
//! all (the server leaves the hydration scripts out); on the others this sets up what the
//! islands share:
//! - the error of a plain form post that failed before the islands woke, as the server
//!   rendered it, so an island hydrates showing the same message;
//! - the page frame: the slots the server filled for this shopper (account links, cart
//!   count, the reminder to confirm the email address) are rendered again from the data the
//!   server left in them, so their forms work in place and the cart count follows the cart
//!   after an island changes it ([`crate::viewer::refresh_shell`]);
//! - `data-hydrated="true"` on `<main>` once the islands have hydrated, for scripts and the
//!   end-to-end tests.

use leptos::prelude::*;
use leptos::tachys::view::{Mountable, Render};

use crate::layout::{SHOPPER_ATTRIBUTE, Shopper, ShopperNav, VerifyNotice, get_shopper};

/// Runs under the root owner `hydrate_islands` made, so what it provides reaches every
/// island.
pub fn start() {
    if let Some((path, err)) = document()
        .get_element_by_id("main")
        .and_then(|main| main.get_attribute("data-form-error"))
        .as_deref()
        .and_then(|carried| carried.split_once(' '))
    {
        provide_context(leptos::server::ServerActionError::new(path, err));
    }
    take_over_the_frame();
    // The islands hydrate right after this returns, each in its own microtask; a timer runs
    // after all of them (and their first effects).
    set_timeout(
        || {
            if let Some(main) = document().get_element_by_id("main") {
                let _ = main.set_attribute("data-hydrated", "true");
            }
        },
        std::time::Duration::ZERO,
    );
}

fn take_over_the_frame() {
    let slot = |name: &str| {
        document()
            .query_selector(&format!("[data-frame=\"{name}\"]"))
            .ok()
            .flatten()
    };
    let (Some(nav), Some(notice)) = (slot("nav"), slot("notice")) else {
        return;
    };
    let initial = nav
        .query_selector(&format!("[{SHOPPER_ATTRIBUTE}]"))
        .ok()
        .flatten()
        .and_then(|e| e.get_attribute(SHOPPER_ATTRIBUTE))
        .and_then(|json| serde_json::from_str::<Shopper>(&json).ok())
        .unwrap_or_default();
    let shopper = RwSignal::new(initial);
    let on_cart_page = window().location().pathname().is_ok_and(|p| p == "/cart");
    // Reloaded after actions that change it.
    crate::viewer::reload_on_refresh(shopper, get_shopper);
    nav.set_inner_html("");
    notice.set_inner_html("");
    let mut nav_state =
        (move || view! { <ShopperNav shopper=shopper.get() on_cart_page /> }).build();
    nav_state.mount(&nav, None);
    let mut notice_state = (move || view! { <VerifyNotice shopper=shopper.get() /> }).build();
    notice_state.mount(&notice, None);
    // The frame lives as long as the page: its views are never taken down.
    std::mem::forget((nav_state, notice_state));
}
