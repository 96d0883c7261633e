//! `/admin/categories`: the category tree, new categories, editing (including moving a
//! category under another parent) and deleting empty ones. Shop staff only.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use super::{AdminFrame, AuditRow, AuditTable};
use crate::components::{Column, DataTable, FieldError, FormError};
use crate::error::AppError;
use crate::error_pages::Denied;

#[cfg(feature = "ssr")]
mod form;
#[cfg(feature = "ssr")]
mod server;

#[cfg(feature = "ssr")]
pub(crate) use server::category_options;

/// A category in a tree-ordered list, for tables and `<select>`s.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryOption {
    pub id: String,
    pub name: String,
    /// "Kitchen › Cookware › Pans"
    pub path: String,
    pub slug: String,
    pub depth: usize,
    pub position: i64,
    pub products: i64,
}

/// The categories page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoriesPage {
    pub categories: Vec<CategoryOption>,
}

#[server(endpoint = "admin/categories")]
pub async fn list_categories() -> Result<CategoriesPage, AppError> {
    server::list_categories().await
}

/// One category for its edit page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryDetail {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub parent_id: String,
    pub position: i64,
    pub products: i64,
    /// Every category it may move under (not itself nor anything below it).
    pub parents: Vec<CategoryOption>,
    pub history: Vec<AuditRow>,
}

#[server(endpoint = "admin/category")]
pub async fn get_category(id: String) -> Result<CategoryDetail, AppError> {
    server::get_category(id).await
}

/// Creates a category.
#[server(endpoint = "admin/category-create")]
pub async fn create_category(
    name: String,
    slug: String,
    description: String,
    parent_id: String,
    position: String,
) -> Result<(), AppError> {
    server::create_category(name, slug, description, parent_id, position).await
}

/// Saves a category (moving it if the parent changed).
#[server(endpoint = "admin/category-update")]
pub async fn update_category(
    id: String,
    name: String,
    slug: String,
    description: String,
    parent_id: String,
    position: String,
) -> Result<(), AppError> {
    server::update_category(id, name, slug, description, parent_id, position).await
}

/// Deletes an empty category.
#[server(endpoint = "admin/category-delete")]
pub async fn delete_category(id: String) -> Result<(), AppError> {
    server::delete_category(id).await
}

/// The fields shared by the new and edit forms.
#[component]
fn CategoryFields(
    error: Signal<Option<AppError>>,
    #[prop(optional)] current: Option<CategoryDetail>,
    parents: Vec<CategoryOption>,
) -> impl IntoView {
    let msg = move |name: &'static str| move || error.get().and_then(|e| e.message_for(name));
    let c = current.clone().unwrap_or(CategoryDetail {
        id: String::new(),
        name: String::new(),
        slug: String::new(),
        description: String::new(),
        parent_id: String::new(),
        position: 0,
        products: 0,
        parents: Vec::new(),
        history: Vec::new(),
    });
    let parent = c.parent_id.clone();
    view! {
        <div class="grid gap-4 sm:grid-cols-2">
            <div>
                <label for="cat-name" class="block text-sm font-medium">"Name"</label>
                <input id="cat-name" name="name" required value=c.name.clone() class="input mt-1 w-full" />
                {move || view! { <FieldError id="cat-name-error" message=msg("name")() /> }}
            </div>
            <div>
                <label for="cat-slug" class="block text-sm font-medium">"Web address"</label>
                <input id="cat-slug" name="slug" value=c.slug.clone() placeholder="made from the name" class="input mt-1 w-full" />
                {move || view! { <FieldError id="cat-slug-error" message=msg("slug")() /> }}
            </div>
            <div>
                <label for="cat-parent" class="block text-sm font-medium">"Parent"</label>
                <select id="cat-parent" name="parent_id" class="input mt-1 w-full" data-testid="category-parent">
                    <option value="">"None (top level)"</option>
                    {parents.into_iter().map(|p| {
                        let selected = p.id == parent;
                        view! { <option value=p.id selected=selected>{p.path}</option> }
                    }).collect_view()}
                </select>
                {move || view! { <FieldError id="cat-parent-error" message=msg("parent_id")() /> }}
            </div>
            <div>
                <label for="cat-position" class="block text-sm font-medium">"Position"</label>
                <input id="cat-position" name="position" inputmode="numeric" value=c.position.to_string() class="input mt-1 w-full" />
                <p class="mt-1 text-xs text-stone-500">"Lower numbers come first among siblings."</p>
                {move || view! { <FieldError id="cat-position-error" message=msg("position")() /> }}
            </div>
            <div class="sm:col-span-2">
                <label for="cat-description" class="block text-sm font-medium">"Description"</label>
                <textarea id="cat-description" name="description" rows="3" class="input mt-1 w-full">{crate::components::rcdata_text(&c.description)}</textarea>
                {move || view! { <FieldError id="cat-description-error" message=msg("description")() /> }}
            </div>
        </div>
    }
}

/// `/admin/categories`
#[component]
pub fn AdminCategoriesPage() -> impl IntoView {
    let create = ServerAction::<CreateCategory>::new();
    let data = Resource::new(move || create.version().get(), |_| list_categories());
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(d) => {
                        let parents = d.categories.clone();
                        view! {
                        <AdminFrame title="Categories">
                            <DataTable columns=["Name", "Web address", "Position", "Active products"].map(Column::new).to_vec() testid="categories">
                                {d.categories.into_iter().map(|c| view! {
                                    <tr>
                                        <td class="px-3 py-2" style=format!("padding-left: {}rem", 0.75 + 1.25 * c.depth as f32)>
                                            <a class="link" href=format!("/admin/categories/{}", c.id)>{c.name}</a>
                                        </td>
                                        <td class="px-3 py-2 font-mono text-xs"><a class="link" href=format!("/c/{}", c.slug)>{format!("/c/{}", c.slug)}</a></td>
                                        <td class="px-3 py-2 tabular-nums">{c.position}</td>
                                        <td class="px-3 py-2 tabular-nums">{c.products}</td>
                                    </tr>
                                }).collect_view()}
                            </DataTable>
                            <section class="card space-y-4 p-6" aria-labelledby="new-category">
                                <h2 id="new-category" class="text-lg font-semibold">"New category"</h2>
                                <FormError error />
                                <ActionForm action=create attr:class="space-y-4">
                                    <CategoryFields error parents=parents.clone() />
                                    <button type="submit" class="btn btn-primary" data-testid="create-category">"Create category"</button>
                                </ActionForm>
                            </section>
                        </AdminFrame>
                    }.into_any()
                    },
                }
            })}
        </Suspense>
    }
}

/// `/admin/categories/:id`
#[component]
pub fn AdminCategoryPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let update = ServerAction::<UpdateCategory>::new();
    let delete = ServerAction::<DeleteCategory>::new();
    let data = Resource::new(
        move || (id.get(), update.version().get()),
        |(id, _)| get_category(id),
    );
    let error = Signal::derive(move || {
        update
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| delete.value().get().and_then(Result::err))
    });
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(c) => {
                        let parents = c.parents.clone();
                        let cid = c.id.clone();
                        let cid2 = c.id.clone();
                        let title = format!("Category: {}", c.name);
                        let count = format!(" · {} active product{} here and below", c.products, if c.products == 1 { "" } else { "s" });
                        let history = c.history.clone();
                        view! {
                            <AdminFrame title=title>
                                <p class="text-sm text-stone-600">
                                    <a class="link" href="/admin/categories">"All categories"</a>
                                    {count}
                                </p>
                                <FormError error />
                                <section class="card space-y-4 p-6">
                                    <ActionForm action=update attr:class="space-y-4">
                                        <input type="hidden" name="id" value=cid />
                                        <CategoryFields error current=c parents />
                                        <button type="submit" class="btn btn-primary" data-testid="save-category">"Save category"</button>
                                    </ActionForm>
                                </section>
                                <section class="card space-y-3 p-6">
                                    <h2 class="text-lg font-semibold">"Delete"</h2>
                                    <p class="text-sm text-stone-600">"Only an empty category can be deleted: move its subcategories and the products filed under it first."</p>
                                    <ActionForm action=delete>
                                        <input type="hidden" name="id" value=cid2 />
                                        <button type="submit" class="btn btn-danger" data-testid="delete-category">"Delete category"</button>
                                    </ActionForm>
                                </section>
                                <h2 class="text-lg font-semibold">"History"</h2>
                                <AuditTable rows=history />
                            </AdminFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
