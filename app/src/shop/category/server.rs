//! The server side of a category page: the listing with its filters, breadcrumbs and
//! subcategories, from the catalog.

use super::{CategoryPage, SubCategory};
use crate::error::AppError;
use crate::shop::Crumb;
use crate::shop::views::{listing_params, listing_view};
use crate::ssr::server_context;

pub(super) async fn get_category(slug: String, query: String) -> Result<CategoryPage, AppError> {
    let ctx = server_context()?;
    let tree = ctx.catalog.tree().await?;
    let category = tree.by_slug(&slug).ok_or(AppError::NotFound)?;
    if category.product_count == 0 {
        return Err(AppError::NotFound);
    }
    let params = listing_params(&query, ctx.shop.currency)?;
    let listing = ctx
        .catalog
        .category_listing(category, params.filters.clone(), params.sort, params.page)
        .await?;
    if params.page > 1 && params.page > listing.pages {
        return Err(AppError::NotFound);
    }
    crate::ssr::note_event(&analytics::Noted {
        category_id: Some(category.id.as_str().to_owned()),
        results: Some(listing.total),
        ..analytics::Noted::new(analytics::Kind::ListingView)
    });
    let path = format!("/c/{}", category.slug);
    let crumbs = tree
        .path(&category.id)
        .into_iter()
        .map(|c| Crumb {
            name: c.name.clone(),
            href: format!("/c/{}", c.slug),
        })
        .collect();
    let children = tree
        .children(&category.id)
        .into_iter()
        .filter(|c| c.product_count > 0)
        .map(|c| SubCategory {
            name: c.name.clone(),
            href: format!("/c/{}", c.slug),
            count: c.product_count,
        })
        .collect();
    let canonical = match params.page {
        1 => format!("{}{path}", ctx.shop.base_url),
        p => format!("{}{path}?page={p}", ctx.shop.base_url),
    };
    Ok(CategoryPage {
        name: category.name.clone(),
        description: category.description.clone(),
        canonical,
        crumbs,
        children,
        listing: listing_view(
            &path,
            Vec::new(),
            &params,
            catalog::Sort::Relevance,
            listing,
        ),
    })
}
