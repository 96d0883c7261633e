//! The server side of the categories pages: the category tree as a list, one category for
//! its edit page, and creating, saving and deleting. Each checks the admin role first.

use super::form::category_input;
use super::{CategoriesPage, CategoryDetail, CategoryOption};
use crate::error::AppError;
use crate::ssr::{internal, parse_id, redirect_with_flash, require_role, server_context};

/// Every category, depth first in display order.
pub(crate) fn category_options(tree: &catalog::CategoryTree) -> Vec<CategoryOption> {
    fn walk(
        tree: &catalog::CategoryTree,
        c: &catalog::Category,
        depth: usize,
        out: &mut Vec<CategoryOption>,
    ) {
        if depth > 16 {
            return;
        }
        out.push(CategoryOption {
            id: c.id.as_str().to_owned(),
            name: c.name.clone(),
            path: tree
                .path(&c.id)
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(" › "),
            slug: c.slug.clone(),
            depth,
            position: c.position,
            products: c.product_count,
        });
        for child in tree.children(&c.id) {
            walk(tree, child, depth + 1, out);
        }
    }
    let mut out = Vec::new();
    for root in tree.roots() {
        walk(tree, root, 0, &mut out);
    }
    out
}

pub(super) async fn list_categories() -> Result<CategoriesPage, AppError> {
    let ctx = server_context()?;
    require_role(auth::Role::Admin).await?;
    let tree = ctx.catalog.tree().await?;
    Ok(CategoriesPage {
        categories: category_options(&tree),
    })
}

pub(super) async fn get_category(id: String) -> Result<CategoryDetail, AppError> {
    let ctx = server_context()?;
    require_role(auth::Role::Admin).await?;
    // Read fresh: the page must show what was just saved.
    let tree = catalog::CategoryTree::load(&ctx.db)
        .await
        .map_err(internal)?;
    let category: catalog::CategoryId = parse_id(&id)?;
    let c = tree.get(&category).ok_or(AppError::NotFound)?;
    let parents = category_options(&tree)
        .into_iter()
        .filter(|o| !tree.is_within(&catalog::CategoryId::from_db(o.id.clone()), &category))
        .collect();
    let (history, _) = shop_core::audit::list(
        &ctx.db,
        &shop_core::audit::Filter {
            target: Some(("category".to_owned(), id.clone())),
            ..Default::default()
        },
        1,
        30,
    )
    .await
    .map_err(internal)?;
    Ok(CategoryDetail {
        id: c.id.as_str().to_owned(),
        name: c.name.clone(),
        slug: c.slug.clone(),
        description: c.description.clone(),
        parent_id: c
            .parent_id
            .as_ref()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        position: c.position,
        products: c.product_count,
        parents,
        history: history.into_iter().map(crate::admin::audit_row).collect(),
    })
}

fn actor(account: &auth::Account) -> shop_core::audit::Actor {
    shop_core::audit::Actor::user(&account.id, account.email.as_str())
}

pub(super) async fn create_category(
    name: String,
    slug: String,
    description: String,
    parent_id: String,
    position: String,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let admin = require_role(auth::Role::Admin).await?;
    let input = category_input(name, slug, description, parent_id, position)?;
    ctx.catalog.create_category(&actor(&admin), &input).await?;
    redirect_with_flash("/admin/categories", "category_saved");
    Ok(())
}

pub(super) async fn update_category(
    id: String,
    name: String,
    slug: String,
    description: String,
    parent_id: String,
    position: String,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let admin = require_role(auth::Role::Admin).await?;
    let input = category_input(name, slug, description, parent_id, position)?;
    ctx.catalog
        .update_category(&actor(&admin), &parse_id(&id)?, &input)
        .await?;
    redirect_with_flash(
        &format!("/admin/categories/{}", crate::url::urlencode(&id)),
        "category_saved",
    );
    Ok(())
}

pub(super) async fn delete_category(id: String) -> Result<(), AppError> {
    let ctx = server_context()?;
    let admin = require_role(auth::Role::Admin).await?;
    ctx.catalog
        .delete_category(&actor(&admin), &parse_id(&id)?)
        .await?;
    redirect_with_flash("/admin/categories", "category_deleted");
    Ok(())
}
