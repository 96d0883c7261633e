//! The admin catalog: the products list, the new-product form and the product editor (its
//! fields, status, variants, stock with its history, and images). Admins manage every
//! product; a vendor only their own — the catalog service enforces that, and another's
//! product is simply "not found".

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use super::catalog_io::{OutcomeBanner, UploadOutcome};
use super::categories::CategoryOption;
use super::{AdminFrame, AuditRow, AuditTable};
use crate::components::{
    Badge, Column, DataTable, FieldError, FilterBar, FilterSelect, FilterText, FormError, Pager,
    Tone, choices,
};
use crate::error::AppError;
use crate::error_pages::Denied;

#[cfg(feature = "ssr")]
mod form;
#[cfg(feature = "ssr")]
mod server;

/// A row of the products list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductListRow {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub status: String,
    pub brand: String,
    pub category: String,
    pub vendor: Option<String>,
    pub variants: i64,
    pub price: String,
    pub available: i64,
    pub cover: Option<String>,
    pub updated: String,
}

/// A page of the products list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductList {
    pub rows: Vec<ProductListRow>,
    pub total: i64,
    pub page: u32,
    pub pages: u32,
    /// Shop staff (not a vendor).
    pub staff: bool,
    pub categories: Vec<CategoryOption>,
}

/// Searches the products the signed-in admin or vendor may manage.
#[server(endpoint = "admin/products")]
pub async fn list_admin_products(
    q: Option<String>,
    status: Option<String>,
    category: Option<String>,
    low: Option<String>,
    page: Option<String>,
) -> Result<ProductList, AppError> {
    server::list_admin_products(q, status, category, low, page).await
}

/// A variant as its edit form shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantView {
    pub id: String,
    pub sku: String,
    pub options: String,
    pub price: String,
    pub compare_at: String,
    pub weight: String,
    pub threshold: i64,
    pub on_hand: i64,
    pub reserved: i64,
    pub archived: bool,
    pub history: Vec<StockLine>,
}

/// One line of a variant's stock history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLine {
    pub when: String,
    pub delta: i64,
    pub reason: String,
    pub note: String,
    pub after: Option<i64>,
    pub actor: String,
}

/// An image in the product's gallery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageView {
    pub id: String,
    pub url: String,
    pub alt: String,
    pub size: String,
}

/// Everything the product editor shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductEditor {
    pub id: String,
    pub fields: ProductFields,
    pub status: String,
    pub currency: String,
    pub vendor: Option<String>,
    pub shop_url: String,
    pub variants: Vec<VariantView>,
    pub images: Vec<ImageView>,
    pub categories: Vec<CategoryOption>,
    pub staff: bool,
    pub history: Vec<AuditRow>,
    pub outcome: Option<UploadOutcome>,
}

/// A product's own fields as the form sends them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductFields {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub brand: String,
    #[serde(default)]
    pub category_id: String,
    /// Further categories (checkboxes).
    #[serde(default)]
    pub extra: Option<Vec<String>>,
    /// "name: value" per line.
    #[serde(default)]
    pub attributes: String,
    #[serde(default)]
    pub seo_title: String,
    #[serde(default)]
    pub seo_description: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    pub featured: Option<String>,
}

/// A variant's fields as the form sends them (all text, parsed on the server).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantFields {
    #[serde(default)]
    pub sku: String,
    /// "Size: M; Colour: Red"
    #[serde(default)]
    pub options: String,
    #[serde(default)]
    pub price: String,
    #[serde(default)]
    pub compare_at: String,
    #[serde(default)]
    pub weight: String,
    #[serde(default)]
    pub threshold: String,
    /// Stock on hand for a new variant.
    #[serde(default)]
    pub stock: String,
    #[serde(default)]
    pub archived: Option<String>,
}

/// Loads a product for its editor.
#[server(endpoint = "admin/product")]
pub async fn get_product_editor(id: String) -> Result<ProductEditor, AppError> {
    server::get_product_editor(id).await
}

/// What the new-product form needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProductData {
    pub categories: Vec<CategoryOption>,
    pub currency: String,
    pub staff: bool,
}

#[server(endpoint = "admin/product-new")]
pub async fn get_new_product() -> Result<NewProductData, AppError> {
    server::get_new_product().await
}

/// Creates a draft product with its variants (rows left blank are ignored), then opens its
/// editor.
#[server(endpoint = "admin/product-create")]
pub async fn create_product(
    product: ProductFields,
    variants: Option<Vec<VariantFields>>,
) -> Result<(), AppError> {
    server::create_product(product, variants).await
}

/// Saves a product's own fields.
#[server(endpoint = "admin/product-save")]
pub async fn save_product(id: String, product: ProductFields) -> Result<(), AppError> {
    server::save_product(id, product).await
}

/// Publishes, unpublishes or archives a product.
#[server(endpoint = "admin/product-status")]
pub async fn set_product_status(id: String, status: String) -> Result<(), AppError> {
    server::set_product_status(id, status).await
}

/// Saves a variant.
#[server(endpoint = "admin/variant-save")]
pub async fn save_variant(
    product_id: String,
    variant_id: String,
    variant: VariantFields,
) -> Result<(), AppError> {
    server::save_variant(product_id, variant_id, variant).await
}

/// Adds a variant.
#[server(endpoint = "admin/variant-add")]
pub async fn add_variant(product_id: String, variant: VariantFields) -> Result<(), AppError> {
    server::add_variant(product_id, variant).await
}

/// Adds or removes stock with a reason.
#[server(endpoint = "admin/stock-adjust")]
pub async fn adjust_stock(
    product_id: String,
    variant_id: String,
    delta: String,
    note: String,
) -> Result<(), AppError> {
    server::adjust_stock(product_id, variant_id, delta, note).await
}

/// Changes an image's alt text, moves it (`move_to = "earlier" | "later"`) or deletes it
/// (`move_to = "delete"`).
#[server(endpoint = "admin/image")]
pub async fn change_image(
    product_id: String,
    image_id: String,
    alt: Option<String>,
    move_to: Option<String>,
) -> Result<(), AppError> {
    server::change_image(product_id, image_id, alt, move_to).await
}

/// `/admin/products`
#[component]
pub fn AdminProductsPage() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        let q = query.read();
        (
            q.get("q"),
            q.get("status"),
            q.get("category"),
            q.get("low"),
            q.get("page"),
        )
    };
    let data = Resource::new(params, |(q, status, category, low, page)| {
        list_admin_products(q, status, category, low, page)
    });
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (q, status, category, low, _) = params();
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(p) => {
                        let filters = vec![("q", q.clone()), ("status", status.clone()), ("category", category.clone()), ("low", low.clone())];
                        let title = if p.staff { "Products" } else { "Your products" };
                        let categories = p.categories.iter().map(|c| (c.id.clone(), c.path.clone())).collect();
                        let columns = [
                            Some(Column::hidden("Image")),
                            Some(Column::new("Product")),
                            Some(Column::new("Status")),
                            Some(Column::new("Category")),
                            Some(Column::new("Price")),
                            Some(Column::new("Available")),
                            p.staff.then_some(Column::new("Vendor")),
                            Some(Column::new("Updated")),
                        ].into_iter().flatten().collect();
                        view! {
                            <AdminFrame title=title staff=p.staff>
                                <div class="flex flex-wrap items-end justify-between gap-3">
                                    <FilterBar action="/admin/products">
                                        <FilterText id="products-q" name="q" label="Name, brand or SKU" value=q.clone() class="input mt-1 w-56" />
                                        <FilterSelect id="products-status" name="status" label="Status" current=status.clone()
                                            options=choices(&[("active", "Active"), ("draft", "Draft"), ("archived", "Archived")]) />
                                        <FilterSelect id="products-category" name="category" label="Category" current=category.clone()
                                            options=categories class="input mt-1 max-w-xs" />
                                        <label class="flex items-center gap-2 pb-2 text-sm">
                                            <input type="checkbox" name="low" value="1" checked=low.as_deref() == Some("1") />
                                            "Low on stock"
                                        </label>
                                    </FilterBar>
                                    <a href="/admin/products/new" class="btn btn-primary" data-testid="new-product">"New product"</a>
                                </div>
                                <p class="text-sm text-stone-600" data-testid="products-total">{format!("{} product{}", p.total, if p.total == 1 { "" } else { "s" })}</p>
                                <DataTable columns testid="admin-products">
                                    {p.rows.into_iter().map(|r| {
                                        let tone = Tone::of_status(&r.status);
                                        view! {
                                            <tr>
                                                <td class="px-3 py-2">
                                                    {match r.cover {
                                                        Some(src) => view! { <img src=src alt="" width="40" height="40" loading="lazy" class="h-10 w-10 rounded object-cover" /> }.into_any(),
                                                        None => view! { <span class="block h-10 w-10 rounded bg-stone-100"></span> }.into_any(),
                                                    }}
                                                </td>
                                                <td class="px-3 py-2">
                                                    <a class="link font-medium" href=format!("/admin/products/{}", r.id)>{r.name}</a>
                                                    <span class="block text-xs text-stone-500">{format!("{} · {} variant{}", r.brand, r.variants, if r.variants == 1 { "" } else { "s" })}</span>
                                                </td>
                                                <td class="px-3 py-2"><Badge tone>{r.status}</Badge></td>
                                                <td class="px-3 py-2">{r.category}</td>
                                                <td class="whitespace-nowrap px-3 py-2 tabular-nums">{r.price}</td>
                                                <td class="px-3 py-2 tabular-nums">{r.available}</td>
                                                {p.staff.then(|| view! { <td class="px-3 py-2 text-xs">{r.vendor.clone().unwrap_or_else(|| "Shop".to_owned())}</td> })}
                                                <td class="whitespace-nowrap px-3 py-2">{r.updated}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </DataTable>
                                <Pager base="/admin/products" filters page=p.page pages=p.pages />
                            </AdminFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// An error message under a field of a larger form.
fn field_message(
    error: Signal<Option<AppError>>,
    name: &'static str,
) -> impl Fn() -> Option<String> + Copy {
    move || error.get().and_then(|e| e.message_for(name))
}

/// The product's own fields, for the new and edit forms.
#[component]
fn ProductFieldsForm(
    fields: ProductFields,
    categories: Vec<CategoryOption>,
    staff: bool,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let extra = fields.extra.clone().unwrap_or_default();
    let category = fields.category_id.clone();
    let msg = move |name: &'static str| field_message(error, name);
    view! {
        <div class="grid gap-4 sm:grid-cols-2">
            <div class="sm:col-span-2">
                <label for="product-name" class="block text-sm font-medium">"Name"</label>
                <input id="product-name" name="product[name]" required value=fields.name.clone() class="input mt-1 w-full" />
                {move || view! { <FieldError id="product-name-error" message=msg("name")() /> }}
            </div>
            <div>
                <label for="product-slug" class="block text-sm font-medium">"Web address"</label>
                <input id="product-slug" name="product[slug]" value=fields.slug.clone() placeholder="made from the name" class="input mt-1 w-full" />
                {move || view! { <FieldError id="product-slug-error" message=msg("slug")() /> }}
            </div>
            <div>
                <label for="product-brand" class="block text-sm font-medium">"Brand"</label>
                <input id="product-brand" name="product[brand]" value=fields.brand.clone() class="input mt-1 w-full" />
                {move || view! { <FieldError id="product-brand-error" message=msg("brand")() /> }}
            </div>
            <div class="sm:col-span-2">
                <label for="product-category" class="block text-sm font-medium">"Category"</label>
                <select id="product-category" name="product[category_id]" required class="input mt-1 w-full">
                    <option value="">"Choose…"</option>
                    {categories.iter().map(|c| view! {
                        <option value=c.id.clone() selected=c.id == category>{c.path.clone()}</option>
                    }).collect_view()}
                </select>
                {move || view! { <FieldError id="product-category-error" message=msg("category_id")() /> }}
            </div>
            <details class="sm:col-span-2">
                <summary class="cursor-pointer text-sm font-medium">{format!("Also listed in ({} further categor{})", extra.len(), if extra.len() == 1 { "y" } else { "ies" })}</summary>
                <div class="mt-2 grid max-h-64 gap-1 overflow-y-auto rounded border border-stone-200 p-3 sm:grid-cols-2">
                    {categories.iter().enumerate().map(|(i, c)| view! {
                        <label class="flex items-center gap-2 text-sm">
                            <input type="checkbox" name=format!("product[extra][{i}]") value=c.id.clone() checked=extra.contains(&c.id) />
                            {c.path.clone()}
                        </label>
                    }).collect_view()}
                </div>
                {move || view! { <FieldError id="product-extra-error" message=msg("extra_category_ids")() /> }}
            </details>
            <div class="sm:col-span-2">
                <label for="product-description" class="block text-sm font-medium">"Description"</label>
                <textarea id="product-description" name="product[description]" rows="6" class="input mt-1 w-full font-mono text-sm">{crate::components::rcdata_text(&fields.description)}</textarea>
                <p class="mt-1 text-xs text-stone-500">"Markdown: **bold**, *italic*, lists and links. HTML is not allowed."</p>
                {move || view! { <FieldError id="product-description-error" message=msg("description")() /> }}
            </div>
            <div>
                <label for="product-attributes" class="block text-sm font-medium">"Attributes"</label>
                <textarea id="product-attributes" name="product[attributes]" rows="4" placeholder="material: cast iron" class="input mt-1 w-full text-sm">{crate::components::rcdata_text(&fields.attributes)}</textarea>
                <p class="mt-1 text-xs text-stone-500">"One per line, as name: value. Shoppers can filter by them."</p>
                {move || view! { <FieldError id="product-attributes-error" message=msg("attributes")() /> }}
            </div>
            <div class="space-y-3">
                <div>
                    <label for="product-seo-title" class="block text-sm font-medium">"Search engine title"</label>
                    <input id="product-seo-title" name="product[seo_title]" value=fields.seo_title.clone() maxlength="70" class="input mt-1 w-full" />
                    {move || view! { <FieldError id="product-seo-title-error" message=msg("seo_title")() /> }}
                </div>
                <div>
                    <label for="product-seo-description" class="block text-sm font-medium">"Search engine description"</label>
                    <input id="product-seo-description" name="product[seo_description]" value=fields.seo_description.clone() maxlength="320" class="input mt-1 w-full" />
                    {move || view! { <FieldError id="product-seo-description-error" message=msg("seo_description")() /> }}
                </div>
                {staff.then(|| view! {
                    <label class="flex items-center gap-2 text-sm">
                        <input type="checkbox" name="product[featured]" value="on" checked=fields.featured.is_some() />
                        "Feature on the home page"
                    </label>
                })}
            </div>
        </div>
    }
}

/// The inputs of one variant; `prefix` names them (`variants[0]` or `variant`).
#[component]
fn VariantInputs(
    prefix: String,
    v: VariantView,
    currency: String,
    #[prop(default = false)] new: bool,
    #[prop(into)] id_prefix: String,
) -> impl IntoView {
    let name = |field: &str| format!("{prefix}[{field}]");
    let id = |field: &str| format!("{id_prefix}-{field}");
    view! {
        <div class="grid gap-3 sm:grid-cols-6">
            <div class="sm:col-span-2">
                <label for=id("sku") class="block text-xs font-medium">"SKU"</label>
                <input id=id("sku") name=name("sku") value=v.sku class="input mt-1 w-full font-mono text-sm" />
            </div>
            <div class="sm:col-span-2">
                <label for=id("options") class="block text-xs font-medium">"Options"</label>
                <input id=id("options") name=name("options") value=v.options placeholder="Size: M; Colour: Red" class="input mt-1 w-full text-sm" />
            </div>
            <div>
                <label for=id("price") class="block text-xs font-medium">{format!("Price ({currency})")}</label>
                <input id=id("price") name=name("price") value=v.price inputmode="decimal" placeholder="12.50" class="input mt-1 w-full tabular-nums" />
            </div>
            <div>
                <label for=id("compare_at") class="block text-xs font-medium">"Was (optional)"</label>
                <input id=id("compare_at") name=name("compare_at") value=v.compare_at inputmode="decimal" class="input mt-1 w-full tabular-nums" />
            </div>
            <div>
                <label for=id("weight") class="block text-xs font-medium">"Weight (g)"</label>
                <input id=id("weight") name=name("weight") value=v.weight inputmode="numeric" class="input mt-1 w-full tabular-nums" />
            </div>
            <div>
                <label for=id("threshold") class="block text-xs font-medium">"Low-stock level"</label>
                <input id=id("threshold") name=name("threshold") value=v.threshold.to_string() inputmode="numeric" class="input mt-1 w-full tabular-nums" />
            </div>
            {if new {
                view! {
                    <div>
                        <label for=id("stock") class="block text-xs font-medium">"Stock on hand"</label>
                        <input id=id("stock") name=name("stock") inputmode="numeric" placeholder="0" class="input mt-1 w-full tabular-nums" />
                    </div>
                }.into_any()
            } else {
                view! {
                    <label class="flex items-center gap-2 self-end pb-2 text-sm">
                        <input type="checkbox" name=name("archived") value="on" checked=v.archived />
                        "Archived"
                    </label>
                }.into_any()
            }}
        </div>
    }
}

/// The field errors of a variant form, in one line (its fields are many and small).
#[component]
fn VariantErrors(error: Signal<Option<AppError>>) -> impl IntoView {
    const VARIANT_FIELDS: [&str; 11] = [
        "sku",
        "options",
        "price",
        "compare_at",
        "weight",
        "threshold",
        "stock",
        "archived",
        "variants",
        "delta",
        "note",
    ];
    move || {
        error.get().and_then(|e| match &e {
            AppError::Invalid { field: Some(f), message, .. } if VARIANT_FIELDS.contains(&f.as_str()) => Some(view! {
                <p role="alert" class="text-sm text-red-700" data-testid="variant-error">{message.clone()}</p>
            }),
            _ => None,
        })
    }
}

/// `/admin/products/new`
#[component]
pub fn AdminNewProductPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_new_product());
    let create = ServerAction::<CreateProduct>::new();
    let error = Signal::derive(move || create.value().get().and_then(Result::err));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(d) => view! {
                        <AdminFrame title="New product" staff=d.staff>
                            <p class="text-sm text-stone-600">"The product starts as a draft: shoppers see it once you publish it."</p>
                            <FormError error />
                            <ActionForm action=create attr:class="space-y-6">
                                <section class="card space-y-4 p-6">
                                    <ProductFieldsForm fields=ProductFields::default() categories=d.categories.clone() staff=d.staff error />
                                </section>
                                <section class="card space-y-4 p-6">
                                    <h2 class="text-lg font-semibold">"Variants"</h2>
                                    <p class="text-sm text-stone-600">"At least one. Give each variant its own SKU and options (e.g. Size: M). Rows left empty are ignored; more variants can be added later."</p>
                                    <VariantErrors error />
                                    {(0..3).map(|i| view! {
                                        <fieldset class="rounded border border-stone-200 p-3" data-testid=format!("new-variant-{i}")>
                                            <legend class="px-1 text-sm font-medium">{format!("Variant {}", i + 1)}</legend>
                                            <VariantInputs prefix=format!("variants[{i}]") v=VariantView { threshold: 5, ..Default::default() } currency=d.currency.clone() new=true id_prefix=format!("new-variant-{i}") />
                                        </fieldset>
                                    }).collect_view()}
                                </section>
                                <button type="submit" class="btn btn-primary" data-testid="create-product">"Create product"</button>
                            </ActionForm>
                        </AdminFrame>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/admin/products/:id`
#[component]
pub fn AdminProductPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let save = ServerAction::<SaveProduct>::new();
    let status = ServerAction::<SetProductStatus>::new();
    let variant = ServerAction::<SaveVariant>::new();
    let add = ServerAction::<AddVariant>::new();
    let stock = ServerAction::<AdjustStock>::new();
    let image = ServerAction::<ChangeImage>::new();
    let versions = move || {
        save.version().get()
            + status.version().get()
            + variant.version().get()
            + add.version().get()
            + stock.version().get()
            + image.version().get()
    };
    let data = Resource::new(
        move || (id.get(), versions()),
        |(id, _)| get_product_editor(id),
    );
    let product_error = Signal::derive(move || {
        save.value()
            .get()
            .and_then(Result::err)
            .or_else(|| status.value().get().and_then(Result::err))
    });
    let variant_error = Signal::derive(move || {
        variant
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| add.value().get().and_then(Result::err))
            .or_else(|| stock.value().get().and_then(Result::err))
    });
    let image_error = Signal::derive(move || image.value().get().and_then(Result::err));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(error) => view! { <Denied error /> }.into_any(),
                    Ok(p) => {
                        let status_buttons = status_buttons(&p, status);
                        let variants_view = variant_rows(&p, variant, stock);
                        let images_view = image_items(&p, image);
                        let pid = p.id.clone();
                        let tone = Tone::of_status(&p.status);
                        let live = (p.status == "active").then(|| p.shop_url.clone());
                        let currency2 = p.currency.clone();
                        let upload_action = format!("/admin/uploads/products/{}/images", p.id);
                        let (pid1, pid2) = (pid.clone(), pid.clone());
                        view! {
                            <AdminFrame title=p.fields.name.clone() staff=p.staff>
                                <div class="flex flex-wrap items-center gap-3 text-sm">
                                    <Badge tone testid="product-status">{p.status.clone()}</Badge>
                                    {p.vendor.clone().map(|v| view! { <span class="text-stone-600">{format!("Vendor: {v}")}</span> })}
                                    {live.map(|href| view! { <a class="link" href=href data-testid="view-in-shop">"View in shop"</a> })}
                                    <a class="link" href="/admin/products">"All products"</a>
                                </div>
                                <OutcomeBanner outcome=p.outcome.clone() />
                                <section class="card flex flex-wrap items-center gap-3 p-4" aria-label="Status">
                                    {status_buttons}
                                </section>
                                <FormError error=product_error />
                                <section class="card space-y-4 p-6" aria-labelledby="details-heading">
                                    <h2 id="details-heading" class="text-lg font-semibold">"Details"</h2>
                                    <ActionForm action=save attr:class="space-y-4">
                                        <input type="hidden" name="id" value=pid1 />
                                        <ProductFieldsForm fields=p.fields.clone() categories=p.categories.clone() staff=p.staff error=product_error />
                                        <button type="submit" class="btn btn-primary" data-testid="save-product">"Save details"</button>
                                    </ActionForm>
                                </section>
                                <section class="card space-y-4 p-6" aria-labelledby="variants-heading">
                                    <h2 id="variants-heading" class="text-lg font-semibold">"Variants and stock"</h2>
                                    <FormError error=variant_error />
                                    <VariantErrors error=variant_error />
                                    {variants_view}
                                    <details class="rounded border border-dashed border-stone-300 p-4">
                                        <summary class="cursor-pointer text-sm font-medium" data-testid="add-variant-toggle">"Add a variant"</summary>
                                        <ActionForm action=add attr:class="mt-3 space-y-3">
                                            <input type="hidden" name="product_id" value=pid2 />
                                            <VariantInputs prefix="variant".to_owned() v=VariantView { threshold: 5, ..Default::default() } currency=currency2 new=true id_prefix="add-variant" />
                                            <button type="submit" class="btn btn-secondary" data-testid="add-variant">"Add variant"</button>
                                        </ActionForm>
                                    </details>
                                </section>
                                <section class="card space-y-4 p-6" aria-labelledby="images-heading">
                                    <h2 id="images-heading" class="text-lg font-semibold">"Images"</h2>
                                    <FormError error=image_error />
                                    {move || image_error.get().and_then(|e| e.field_name().map(|_| e.to_string())).map(|m| view! { <p role="alert" class="text-sm text-red-700">{m}</p> })}
                                    <ul class="grid gap-4 sm:grid-cols-2 lg:grid-cols-3" data-testid="product-images">
                                        {images_view}
                                    </ul>
                                    <form method="post" action=upload_action enctype="multipart/form-data" class="flex flex-wrap items-end gap-3 border-t border-stone-100 pt-4">
                                        <div>
                                            <label for="image-file" class="block text-sm font-medium">"Image (JPEG, PNG or WebP, up to 10 MB)"</label>
                                            <input id="image-file" type="file" name="image" accept="image/jpeg,image/png,image/webp" required class="mt-1 block text-sm" />
                                        </div>
                                        <div>
                                            <label for="image-alt" class="block text-sm font-medium">"Alt text for the new image"</label>
                                            <input id="image-alt" name="alt" required placeholder="What the picture shows" class="input mt-1 w-64" />
                                        </div>
                                        <button type="submit" class="btn btn-primary" data-testid="upload-image">"Upload image"</button>
                                    </form>
                                </section>
                                <h2 class="text-lg font-semibold">"History"</h2>
                                <AuditTable rows=p.history.clone() />
                            </AdminFrame>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn status_buttons(
    p: &ProductEditor,
    action: ServerAction<SetProductStatus>,
) -> impl IntoView + use<> {
    [
        ("active", "Publish"),
        ("draft", "Unpublish (draft)"),
        ("archived", "Archive"),
    ]
    .into_iter()
    .filter(|(s, _)| *s != p.status)
    .map(|(s, label)| {
        let pid = p.id.clone();
        view! {
            <ActionForm action>
                <input type="hidden" name="id" value=pid />
                <input type="hidden" name="status" value=s />
                <button type="submit" class=if s == "archived" { "btn btn-danger" } else { "btn btn-secondary" } data-testid=format!("status-{s}")>{label}</button>
            </ActionForm>
        }
    })
    .collect_view()
}

fn variant_rows(
    p: &ProductEditor,
    save: ServerAction<SaveVariant>,
    stock: ServerAction<AdjustStock>,
) -> impl IntoView + use<> {
    p.variants
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, v)| {
            let (pid1, pid2) = (p.id.clone(), p.id.clone());
            let (vid1, vid2) = (v.id.clone(), v.id.clone());
            let currency2 = p.currency.clone();
            let history = v.history.clone();
            let count = history.len();
            let summary = format!(
                "{} on hand · {} reserved · {} available",
                v.on_hand,
                v.reserved,
                (v.on_hand - v.reserved).max(0)
            );
            view! {
                <div class="space-y-3 rounded border border-stone-200 p-4" data-testid="variant">
                    <ActionForm action=save attr:class="space-y-3">
                        <input type="hidden" name="product_id" value=pid1 />
                        <input type="hidden" name="variant_id" value=vid1 />
                        <VariantInputs prefix="variant".to_owned() v=v currency=currency2 id_prefix=format!("variant-{i}") />
                        <button type="submit" class="btn btn-secondary" data-testid="save-variant">"Save variant"</button>
                    </ActionForm>
                    <div class="flex flex-wrap items-end gap-3 border-t border-stone-100 pt-3">
                        <p class="text-sm tabular-nums" data-testid="stock-summary">{summary}</p>
                        <ActionForm action=stock attr:class="flex flex-wrap items-end gap-2">
                            <input type="hidden" name="product_id" value=pid2 />
                            <input type="hidden" name="variant_id" value=vid2 />
                            <div>
                                <label for=format!("stock-delta-{i}") class="block text-xs font-medium">"Add (or −remove)"</label>
                                <input id=format!("stock-delta-{i}") name="delta" inputmode="numeric" placeholder="+10" required class="input mt-1 w-24 tabular-nums" />
                            </div>
                            <div>
                                <label for=format!("stock-note-{i}") class="block text-xs font-medium">"Reason"</label>
                                <input id=format!("stock-note-{i}") name="note" placeholder="stock count" required class="input mt-1 w-48" />
                            </div>
                            <button type="submit" class="btn btn-secondary" data-testid="adjust-stock">"Adjust stock"</button>
                        </ActionForm>
                    </div>
                    <details>
                        <summary class="cursor-pointer text-sm font-medium">{format!("Stock history ({count})")}</summary>
                        <table class="mt-2 min-w-full text-left text-xs" data-testid="stock-history">
                            <thead class="text-stone-600"><tr>
                                <th scope="col" class="px-2 py-1">"When"</th>
                                <th scope="col" class="px-2 py-1">"Change"</th>
                                <th scope="col" class="px-2 py-1">"On hand after"</th>
                                <th scope="col" class="px-2 py-1">"Reason"</th>
                                <th scope="col" class="px-2 py-1">"By"</th>
                            </tr></thead>
                            <tbody>
                                {history.into_iter().map(|h| view! {
                                    <tr>
                                        <td class="px-2 py-1 whitespace-nowrap">{h.when}</td>
                                        <td class="px-2 py-1 tabular-nums">{if h.delta > 0 { format!("+{}", h.delta) } else { h.delta.to_string() }}</td>
                                        <td class="px-2 py-1 tabular-nums">{h.after.map(|a| a.to_string()).unwrap_or_default()}</td>
                                        <td class="px-2 py-1">{format!("{}: {}", h.reason, h.note)}</td>
                                        <td class="px-2 py-1">{h.actor}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </details>
                </div>
            }
        })
        .collect_view()
}

fn image_items(p: &ProductEditor, action: ServerAction<ChangeImage>) -> impl IntoView + use<> {
    let count = p.images.len();
    p.images
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, img)| {
            let (pid, iid) = (p.id.clone(), img.id.clone());
            let caption = if i == 0 {
                format!("Cover · {}", img.size)
            } else {
                img.size.clone()
            };
            let buttons = [
                ("earlier", "Move earlier", i == 0),
                ("later", "Move later", i + 1 == count),
                ("delete", "Delete", false),
            ]
            .into_iter()
            .filter(|(_, _, hidden)| !hidden)
            .map(|(m, label, _)| {
                let (pid, iid) = (p.id.clone(), img.id.clone());
                view! {
                    <ActionForm action>
                        <input type="hidden" name="product_id" value=pid />
                        <input type="hidden" name="image_id" value=iid />
                        <input type="hidden" name="move_to" value=m />
                        <button type="submit" class=if m == "delete" { "btn btn-danger" } else { "btn btn-secondary" } data-testid=format!("image-{m}")>{label}</button>
                    </ActionForm>
                }
            })
            .collect_view();
            view! {
                <li class="space-y-2 rounded border border-stone-200 p-3" data-testid="product-image">
                    <img src=img.url alt=img.alt.clone() width="320" loading="lazy" class="aspect-square w-full rounded object-cover" />
                    <p class="text-xs text-stone-500">{caption}</p>
                    <ActionForm action attr:class="flex items-end gap-2">
                        <input type="hidden" name="product_id" value=pid />
                        <input type="hidden" name="image_id" value=iid />
                        <div class="flex-1">
                            <label for=format!("image-alt-{i}") class="block text-xs font-medium">"Alt text"</label>
                            <input id=format!("image-alt-{i}") name="alt" value=img.alt required class="input mt-1 w-full text-sm" />
                        </div>
                        <button type="submit" class="btn btn-secondary">"Save"</button>
                    </ActionForm>
                    <div class="flex flex-wrap gap-2">{buttons}</div>
                </li>
            }
        })
        .collect_view()
}
