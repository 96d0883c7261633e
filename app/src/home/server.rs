//! The server side of the home page's server function: the departments, featured products
//! and new arrivals, read from the catalog.

use super::{DepartmentTile, HomeData};
use crate::error::AppError;
use crate::shop::views::card;
use crate::ssr::server_context;

pub(super) async fn get_home() -> Result<HomeData, AppError> {
    let ctx = server_context()?;
    let tree = ctx.catalog.tree().await?;
    let departments = tree
        .roots()
        .into_iter()
        .filter(|c| c.product_count > 0)
        .map(|c| DepartmentTile {
            name: c.name.clone(),
            slug: c.slug.clone(),
            product_count: c.product_count,
        })
        .collect();
    let featured = ctx
        .catalog
        .featured(4)
        .await?
        .into_iter()
        .map(card)
        .collect();
    let new_arrivals = ctx.catalog.newest(8).await?.into_iter().map(card).collect();
    Ok(HomeData {
        shop_name: ctx.shop.name.clone(),
        departments,
        featured,
        new_arrivals,
    })
}
