//! The server side of the page frame's server function: the shop's name, the header's
//! categories, who is signed in and their cart's summary.

use super::{NavCategory, ShellData};
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
    let account = crate::ssr::current_user().await?;
    let cart = crate::cart::server::mini_cart(account.as_ref()).await?;
    Ok(ShellData {
        shop_name: ctx.shop.name.clone(),
        categories,
        viewer: account.as_ref().map(crate::viewer::Viewer::from),
        cart,
    })
}
