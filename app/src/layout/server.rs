//! The server side of the page frame: the shop's name and the header's categories for the
//! render, and the asker's own part ([`Shopper`]), which the server puts into the rendered
//! page's slots ([`frame`]).

use leptos::prelude::*;

use leptos::reactive::computed::ScopedFuture;

use super::{Frame, NavCategory, ShellData, Shopper, ShopperNav, VerifyNotice};
use crate::error::AppError;

pub(super) async fn get_shell_data() -> Result<ShellData, AppError> {
    let ctx = crate::ssr::server_context()?;
    let tree = ctx.catalog.tree().await?;
    let categories = tree
        .roots()
        .into_iter()
        .filter(|c| c.product_count > 0)
        .map(|c| NavCategory {
            name: c.name.clone(),
            slug: c.slug.clone(),
        })
        .collect();
    Ok(ShellData {
        shop_name: ctx.shop.name.clone(),
        categories,
    })
}

/// Who is asking and what is in their cart. A visitor without a session costs no database
/// read.
pub(super) async fn shopper() -> Result<Shopper, AppError> {
    let account = crate::ssr::current_user().await?;
    let cart = crate::cart::server::mini_cart(account.as_ref()).await?;
    Ok(Shopper {
        viewer: account.as_ref().map(crate::viewer::Viewer::from),
        cart,
    })
}

/// The frame's slots for the request whose head is `parts` (its session is in its
/// extensions), rendered outside the page's own render: for a page just rendered, and for a
/// page the server kept from an earlier render.
pub async fn frame(
    ctx: crate::ssr::ServerContext,
    parts: http::request::Parts,
) -> Result<Frame, AppError> {
    let on_cart_page = parts.uri.path() == "/cart";
    // A form in the frame that failed with JavaScript off shows its error here, as forms in
    // the page do (see `provide_form_error`).
    let form_error = parts.extensions.get::<super::FormErrorFlash>().cloned();
    // A root of its own (with its own arena): this runs outside any page render.
    let owner = Owner::new_root(None);
    let shopper = owner
        .with(|| {
            provide_context(ctx);
            provide_context(parts);
            ScopedFuture::new(shopper())
        })
        .await?;
    Ok(render_with_error(shopper, on_cart_page, form_error))
}

/// The slots' HTML for `shopper`. The nav slot's content carries the shopper as JSON (an
/// attribute value, escaped as such), from which the browser renders the slots again.
pub fn render_frame(shopper: Shopper, on_cart_page: bool) -> Frame {
    render_with_error(shopper, on_cart_page, None)
}

fn render_with_error(
    shopper: Shopper,
    on_cart_page: bool,
    form_error: Option<super::FormErrorFlash>,
) -> Frame {
    Owner::new_root(None).with(|| {
        if let Some(f) = form_error {
            provide_context(leptos::server::ServerActionError::new(&f.path, &f.error));
        }
        render(shopper, on_cart_page)
    })
}

fn render(shopper: Shopper, on_cart_page: bool) -> Frame {
    let staff = shopper
        .viewer
        .as_ref()
        .is_some_and(|v| v.is_admin || v.is_vendor);
    let json = serde_json::to_string(&shopper).unwrap_or_default();
    let nav = view! {
        <div class="contents" data-shopper=json>
            <ShopperNav shopper=shopper.clone() on_cart_page />
        </div>
    }
    .to_html();
    let notice = view! { <VerifyNotice shopper /> }.to_html();
    Frame { nav, notice, staff }
}
