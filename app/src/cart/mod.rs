//! The cart: the cart page, the add-to-cart forms on product pages and product cards, and
//! the summary the header shows.
//!
//! Every action is a plain HTML form posting to a server function, so it works with
//! JavaScript off (the browser is sent back to the cart page, which shows the outcome); with
//! JavaScript on the same forms post in place and the header's count and mini-cart reload.
//! The browser sends only ids and quantities: prices, totals and stock come from the
//! catalog on the server, and a request carrying any other field is refused.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_meta::Meta;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::image::{ImageView, NoImage, ProductImage};
use crate::viewer::refresh_shell_on_success;

#[cfg(feature = "ssr")]
pub(crate) mod server;

/// The session key holding a guest's cart id. The session store anchors the guest's session
/// to it, so the session ends when housekeeping deletes the cart.
#[cfg(feature = "ssr")]
pub const GUEST_CART_KEY: &str = "cart";

/// A line as the cart page shows it. Prices are formatted on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLineView {
    pub id: String,
    pub name: String,
    /// The product page of this very variant.
    pub href: String,
    pub sku: String,
    /// "Size: M · Colour: Red"; empty for a product without options.
    pub options: String,
    pub image: Option<ImageView>,
    pub unit_price: String,
    /// Set when the price is not what it was when the line was added.
    pub price_change: Option<String>,
    pub quantity: i64,
    /// The most the quantity control offers: the units available, at most 99.
    pub max_quantity: i64,
    pub line_total: String,
    /// Why the line cannot go to checkout as it is.
    pub problem: Option<String>,
}

/// The cart page's data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartView {
    pub lines: Vec<CartLineView>,
    /// Units in the cart.
    pub items: i64,
    /// Of the lines that can be bought as they are.
    pub subtotal: Option<String>,
    pub ready_for_checkout: bool,
    /// What the last actions did (after a plain form post, or at sign-in), shown once.
    pub notices: Vec<String>,
    /// A guest is offered to sign in and keep the cart with their account.
    pub signed_in: bool,
}

/// A line of the header's mini-cart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MiniLine {
    pub name: String,
    pub options: String,
    pub quantity: i64,
    pub line_total: String,
    pub image: Option<ImageView>,
}

/// The header's cart: the count and a short summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MiniCart {
    pub items: i64,
    pub subtotal: Option<String>,
    /// The first few lines.
    pub lines: Vec<MiniLine>,
    /// Lines not shown.
    pub more: usize,
}

/// What an add did, for the form that sent it (JavaScript on).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddOutcome {
    pub message: String,
    /// Units in the cart now.
    pub items: i64,
}

/// The cart of whoever is asking: the signed-in customer's, or the guest's from the session.
#[server(endpoint = "cart")]
pub async fn get_cart() -> Result<CartView, AppError> {
    server::cart_page().await
}

/// Puts `quantity` units of a variant into the cart. Any field besides these is refused: the
/// price is the catalog's, never the browser's.
#[server(endpoint = "cart/add")]
pub async fn add_to_cart(
    variant_id: String,
    quantity: String,
    #[server(flatten)] extra: HashMap<String, String>,
) -> Result<AddOutcome, AppError> {
    server::add(&variant_id, &quantity, &extra).await
}

/// Sets a line's quantity.
#[server(endpoint = "cart/update")]
pub async fn update_cart_line(
    line_id: String,
    quantity: String,
    #[server(flatten)] extra: HashMap<String, String>,
) -> Result<Option<String>, AppError> {
    server::update(&line_id, &quantity, &extra).await
}

/// Removes a line.
#[server(endpoint = "cart/remove")]
pub async fn remove_cart_line(
    line_id: String,
    #[server(flatten)] extra: HashMap<String, String>,
) -> Result<(), AppError> {
    server::remove(&line_id, &extra).await
}

/// Empties the cart.
#[server(endpoint = "cart/clear")]
pub async fn clear_cart(#[server(flatten)] extra: HashMap<String, String>) -> Result<(), AppError> {
    server::clear(&extra).await
}

/// The form field an add's error is about: one per variant, so a page with many add
/// buttons shows the error beside the right one.
pub fn variant_field(variant_id: &str) -> String {
    format!("variant-{variant_id}")
}

/// The form field a line action's error is about.
pub fn line_field(line_id: &str) -> String {
    format!("line-{line_id}")
}

/// The error text for one form: its own field's message, or a message about no field.
fn message_for_form(error: &AppError, field: &str) -> Option<String> {
    error
        .message_for(field)
        .or_else(|| error.field_name().is_none().then(|| error.to_string()))
}

/// "Add to cart" for one variant: a quantity (unless `compact`) and the button. With
/// JavaScript on (an island) it posts in place, says what happened and the header's count
/// follows; with it off the browser goes to the cart page.
#[component]
pub fn AddToCartForm(
    variant_id: String,
    /// The most the quantity input offers.
    #[prop(default = 99)]
    max_quantity: i64,
    /// False for a sold-out variant: the controls are disabled.
    #[prop(default = true)]
    purchasable: bool,
    /// A small button without a quantity input (product cards).
    #[prop(optional)]
    compact: bool,
    /// Names the product for screen readers on compact buttons.
    #[prop(optional, into)]
    product_name: String,
) -> impl IntoView {
    view! { <AddToCartIsland variant_id max_quantity purchasable compact product_name /> }
}

/// [`AddToCartForm`]'s island (whose props travel in the page as JSON, so all are given).
#[island]
fn AddToCartIsland(
    variant_id: String,
    max_quantity: i64,
    purchasable: bool,
    compact: bool,
    product_name: String,
) -> impl IntoView {
    let action = ServerAction::<AddToCart>::new();
    refresh_shell_on_success(action);
    let field = variant_field(&variant_id);
    let added = move || action.value().get().and_then(Result::ok);
    let error = move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .and_then(|e| message_for_form(&e, &field))
    };
    let pending = action.pending();
    let label = if purchasable {
        "Add to cart"
    } else {
        "Sold out"
    };
    let input_id = format!("quantity-{variant_id}");
    view! {
        <ActionForm
            action
            attr:class=if compact { "relative z-10 mt-2" } else { "mt-6" }
            attr:data-testid=if compact { "quick-add" } else { "add-to-cart" }
        >
            <input type="hidden" name="variant_id" value=variant_id />
            <div class="flex items-end gap-3">
                {if compact {
                    view! { <input type="hidden" name="quantity" value="1" /> }.into_any()
                } else {
                    view! {
                        <div>
                            <label for=input_id.clone() class="block text-sm font-medium">"Quantity"</label>
                            <input
                                id=input_id
                                name="quantity"
                                type="number"
                                inputmode="numeric"
                                min="1"
                                max=max_quantity.clamp(1, 99)
                                value="1"
                                required
                                class="input mt-1 w-20"
                                disabled=!purchasable
                            />
                        </div>
                    }.into_any()
                }}
                <button
                    type="submit"
                    class=if compact { "btn btn-secondary w-full py-1.5" } else { "btn btn-primary" }
                    disabled=move || !purchasable || pending.get()
                    aria-label=(compact && !product_name.is_empty()).then(|| format!("{label}: {product_name}"))
                >
                    {move || if pending.get() { "Adding…" } else { label }}
                </button>
            </div>
            <div aria-live="polite" class="mt-2 text-sm">
                {move || added().map(|outcome| view! {
                    <p class="text-emerald-800" data-testid="added-to-cart">
                        {outcome.message} " " <a href="/cart" class="link">"View cart"</a>
                    </p>
                })}
                {move || error().map(|message| view! {
                    <p role="alert" class="text-red-700" data-testid="add-error">{message}</p>
                })}
            </div>
        </ActionForm>
    }
}

/// The header's cart link with its count, and a summary that opens on hover or focus (no
/// JavaScript needed).
#[component]
pub fn CartNav(
    cart: MiniCart,
    /// On the cart page the preview only covers the cart itself: it stays shut there (after
    /// a click on this link, the link keeps the focus that would otherwise hold it open).
    on_cart_page: bool,
) -> impl IntoView {
    let MiniCart {
        items,
        subtotal,
        lines,
        more,
    } = cart;
    // Read as "Cart 3 items": the visible words and count, then what the count counts.
    let unit = if items == 1 { " item" } else { " items" };
    let class = if on_cart_page {
        "relative"
    } else {
        "group relative"
    };
    view! {
        <div class=class>
            <a href="/cart" class="nav-link inline-flex items-center gap-1.5" data-testid="cart-link">
                "Cart"
                <span
                    class="inline-flex min-w-6 justify-center rounded-full bg-stone-900 px-1.5 py-0.5 text-xs font-semibold text-white"
                    data-testid="cart-count"
                >
                    {items}
                </span>
                <span class="sr-only">{unit}</span>
            </a>
            {(!lines.is_empty()).then(|| view! {
                <div
                    class="invisible absolute right-0 top-full z-40 mt-2 w-80 rounded-lg border border-stone-200 bg-white p-4 opacity-0 shadow-lg transition-opacity group-hover:visible group-hover:opacity-100 group-focus-within:visible group-focus-within:opacity-100"
                    data-testid="mini-cart"
                >
                    <ul class="divide-y divide-stone-100">
                        {lines.into_iter().map(|l| view! {
                            <li class="flex gap-3 py-2">
                                <div class="w-12 shrink-0">
                                    {match l.image {
                                        Some(img) => view! { <ProductImage img sizes="48px" width=320 lazy=true rounded="rounded" /> }.into_any(),
                                        None => view! { <NoImage name=l.name.clone() /> }.into_any(),
                                    }}
                                </div>
                                <div class="min-w-0 flex-1 text-sm">
                                    <p class="truncate font-medium">{l.name}</p>
                                    {(!l.options.is_empty()).then(|| view! { <p class="truncate text-xs text-stone-500">{l.options}</p> })}
                                    <p class="text-xs text-stone-600">{format!("Qty {} · {}", l.quantity, l.line_total)}</p>
                                </div>
                            </li>
                        }).collect_view()}
                    </ul>
                    {(more > 0).then(|| view! {
                        <p class="mt-1 text-xs text-stone-500">
                            {if more == 1 { "and 1 more item".to_owned() } else { format!("and {more} more items") }}
                        </p>
                    })}
                    {subtotal.map(|s| view! {
                        <p class="mt-3 flex justify-between border-t border-stone-200 pt-3 text-sm font-semibold">
                            <span>"Subtotal"</span>
                            <span data-testid="mini-cart-subtotal">{s}</span>
                        </p>
                    })}
                    <a href="/cart" class="btn btn-primary mt-3 w-full">"View cart"</a>
                </div>
            })}
        </div>
    }
}

/// `/cart`
#[component]
pub fn CartPage() -> impl IntoView {
    // The cart is this shopper's alone and changes with every action: never from a cache,
    // nor from the browser's back-forward cache after an update.
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.insert_header(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
    }
    let cart = Resource::new(|| (), |_| get_cart());
    view! {
        <crate::components::PageTitle text="Your cart" />
        <Meta name="robots" content="noindex" />
        <h1 class="text-3xl font-bold tracking-tight">"Your cart"</h1>
        <Transition fallback=|| view! { <p class="mt-6 text-stone-500">"Loading your cart…"</p> }>
            {move || Suspend::new(async move {
                match cart.await {
                    Ok(cart) => view! { <CartPanel cart /> }.into_any(),
                    Err(error) => view! { <crate::error_pages::PageError error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The cart's lines, summary and messages: an island. With JavaScript on every action
/// posts in place, and the cart (and the header's count) is loaded again after it changed; with it
/// off each form posts and the browser comes back to a freshly rendered cart page.
#[island]
fn CartPanel(cart: CartView) -> impl IntoView {
    let update = ServerAction::<UpdateCartLine>::new();
    let remove = ServerAction::<RemoveCartLine>::new();
    let clear = ServerAction::<ClearCart>::new();
    refresh_shell_on_success(update);
    refresh_shell_on_success(remove);
    refresh_shell_on_success(clear);
    // Loaded again after every action that changed it (each also moves the header).
    let cart = RwSignal::new(cart);
    crate::viewer::reload_on_refresh(cart, get_cart);
    let actions = CartActions {
        update,
        remove,
        clear,
    };
    view! {
        <ActionMessages actions />
        {move || view! { <CartBody cart=cart.get() actions /> }}
    }
}

/// The cart page's actions, shared by every line's forms.
#[derive(Clone, Copy)]
struct CartActions {
    update: ServerAction<UpdateCartLine>,
    remove: ServerAction<RemoveCartLine>,
    clear: ServerAction<ClearCart>,
}

/// What the last action said (JavaScript on): a capped quantity, or an error.
#[component]
fn ActionMessages(actions: CartActions) -> impl IntoView {
    let capped = move || actions.update.value().get().and_then(Result::ok).flatten();
    let error = move || {
        let update = actions.update.value().get().and_then(Result::err);
        let remove = actions.remove.value().get().and_then(Result::err);
        let clear = actions.clear.value().get().and_then(Result::err);
        update.or(remove).or(clear)
    };
    view! {
        {move || capped().map(|text| view! { <CartNotice><p>{text}</p></CartNotice> })}
        {move || error().map(|e| view! {
            <div role="alert" class="mt-4 rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-900" data-testid="cart-error">{e.to_string()}</div>
        })}
    }
}

/// What an action changed that the shopper should know (a capped quantity, a merge).
#[component]
fn CartNotice(children: Children) -> impl IntoView {
    view! {
        <div role="status" class="mt-4 space-y-1 rounded-md border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-950" data-testid="cart-notice">
            {children()}
        </div>
    }
}

#[component]
fn CartBody(cart: CartView, actions: CartActions) -> impl IntoView {
    let CartView {
        lines,
        items,
        subtotal,
        ready_for_checkout,
        notices,
        signed_in,
    } = cart;
    let notices = (!notices.is_empty()).then(|| {
        view! {
            <CartNotice>{notices.into_iter().map(|n| view! { <p>{n}</p> }).collect_view()}</CartNotice>
        }
    });
    if lines.is_empty() {
        return view! {
            {notices}
            <section class="mt-8 rounded-lg border border-dashed border-stone-300 px-6 py-12 text-center" data-testid="cart-empty">
                <p class="text-lg font-medium">"Your cart is empty."</p>
                <p class="mt-2 text-stone-600">"Find something you like and add it here."</p>
                <a href="/" class="btn btn-primary mt-6">"Continue shopping"</a>
            </section>
        }
        .into_any();
    }
    let flagged = lines.iter().any(|l| l.problem.is_some());
    let count = if items == 1 {
        "1 item".to_owned()
    } else {
        format!("{items} items")
    };
    view! {
        {notices}
        <div class="mt-6 grid gap-8 lg:grid-cols-[1fr_20rem]">
            <section aria-label="Items in your cart">
                <ul class="divide-y divide-stone-200 border-y border-stone-200" data-testid="cart-lines">
                    {lines.into_iter().map(|line| view! { <LineRow line actions /> }).collect_view()}
                </ul>
                <div class="mt-4 flex flex-wrap items-center justify-between gap-3">
                    <a href="/" class="link text-sm">"← Continue shopping"</a>
                    <ActionForm action=actions.clear>
                        <button type="submit" class="btn btn-secondary" data-testid="clear-cart">"Empty the cart"</button>
                    </ActionForm>
                </div>
            </section>
            <aside class="card h-fit p-5" aria-labelledby="summary-title">
                <h2 id="summary-title" class="text-lg font-semibold">"Summary"</h2>
                <dl class="mt-4 space-y-2 text-sm">
                    <div class="flex justify-between">
                        <dt class="text-stone-600">"Items"</dt>
                        <dd data-testid="cart-items">{count}</dd>
                    </div>
                    <div class="flex justify-between text-base font-semibold">
                        <dt>"Subtotal"</dt>
                        <dd data-testid="cart-subtotal">{subtotal.unwrap_or_else(|| "—".to_owned())}</dd>
                    </div>
                </dl>
                <p class="mt-2 text-xs text-stone-500">
                    {if flagged {
                        "Flagged items are not included. Prices include VAT; shipping is added at checkout."
                    } else {
                        "Prices include VAT; shipping is added at checkout."
                    }}
                </p>
                {if ready_for_checkout {
                    view! { <a href="/checkout" class="btn btn-primary mt-5 w-full" data-testid="checkout">"Go to checkout"</a> }.into_any()
                } else {
                    view! {
                        <button type="button" class="btn btn-primary mt-5 w-full" disabled=true data-testid="checkout" aria-describedby="checkout-blocked">
                            "Go to checkout"
                        </button>
                        <p id="checkout-blocked" class="mt-2 text-sm text-red-800">
                            "Some items can't be bought as they are. Change or remove the flagged items to continue."
                        </p>
                    }.into_any()
                }}
                {(!signed_in).then(|| view! {
                    <p class="mt-4 text-sm text-stone-600">
                        "Have an account? "
                        <a href="/login?next=/cart" class="link" data-testid="cart-sign-in">"Sign in"</a>
                        " to keep this cart with it on every device."
                    </p>
                })}
            </aside>
        </div>
    }
    .into_any()
}

#[component]
fn LineRow(line: CartLineView, actions: CartActions) -> impl IntoView {
    let CartLineView {
        id,
        name,
        href,
        sku,
        options,
        image,
        unit_price,
        price_change,
        quantity,
        max_quantity,
        line_total,
        problem,
    } = line;
    let input_id = format!("qty-{id}");
    let max = max_quantity.clamp(1, 99);
    // Two sizes of one product are two lines: the options tell their controls apart.
    let title = if options.is_empty() {
        name.clone()
    } else {
        format!("{name} ({options})")
    };
    let fewer = format!("One fewer {title}");
    let more = format!("One more {title}");
    let quantity_label = format!("Quantity of {title}");
    let remove_label = format!("Remove {title}");
    let (fewer_id, set_id, more_id, remove_id) = (id.clone(), id.clone(), id.clone(), id);
    view! {
        <li class="flex gap-4 py-4" data-testid="cart-line" data-sku=sku.clone()>
            <a href=href.clone() class="w-20 shrink-0 sm:w-24" tabindex="-1" aria-hidden="true">
                {match image {
                    Some(img) => view! { <ProductImage img sizes="96px" width=320 lazy=true /> }.into_any(),
                    None => view! { <NoImage name=name.clone() /> }.into_any(),
                }}
            </a>
            <div class="min-w-0 flex-1">
                <div class="flex flex-wrap justify-between gap-x-4 gap-y-1">
                    <div class="min-w-0">
                        <h3 class="font-medium"><a href=href class="hover:underline focus-ring" data-testid="line-name">{name.clone()}</a></h3>
                        {(!options.is_empty()).then(|| view! { <p class="text-sm text-stone-600" data-testid="line-options">{options}</p> })}
                        <p class="text-xs text-stone-500">"SKU " {sku.clone()}</p>
                    </div>
                    <p class="sm:text-right">
                        <span class="block font-semibold" data-testid="line-total">{line_total}</span>
                        <span class="block text-sm text-stone-600" data-testid="unit-price">{format!("{unit_price} each")}</span>
                    </p>
                </div>
                {price_change.map(|text| view! {
                    <p class="mt-2 text-sm text-amber-800" data-testid="price-changed">{text}</p>
                })}
                {problem.map(|text| view! {
                    <p class="mt-2 inline-block rounded bg-red-50 px-2 py-1 text-sm font-medium text-red-800" data-testid="line-problem">{text}</p>
                })}
                <div class="mt-3 flex flex-wrap items-center gap-4">
                    <div class="flex items-center gap-1">
                        <StepButton action=actions.update line_id=fewer_id to={quantity - 1} label=fewer symbol="−" disabled={quantity <= 1} />
                        <ActionForm action=actions.update attr:class="flex items-center gap-1">
                            <input type="hidden" name="line_id" value=set_id />
                            <label for=input_id.clone() class="sr-only">{quantity_label}</label>
                            <input
                                id=input_id
                                name="quantity"
                                type="number"
                                inputmode="numeric"
                                min="1"
                                max=max
                                value=quantity
                                required
                                class="input w-16 text-center"
                                data-testid="line-quantity"
                                on:change=crate::components::submit_enclosing_form
                            />
                            <noscript>
                                <button type="submit" class="btn btn-secondary py-1.5">"Update"</button>
                            </noscript>
                        </ActionForm>
                        <StepButton action=actions.update line_id=more_id to={quantity + 1} label=more symbol="+" disabled={quantity >= max} />
                    </div>
                    <ActionForm action=actions.remove>
                        <input type="hidden" name="line_id" value=remove_id />
                        <button type="submit" class="link text-sm" data-testid="remove-line" aria-label=remove_label>
                            "Remove"
                        </button>
                    </ActionForm>
                </div>
            </div>
        </li>
    }
}

/// A "−" or "+" button: a one-field form that sets the line to `to`.
#[component]
fn StepButton(
    action: ServerAction<UpdateCartLine>,
    line_id: String,
    to: i64,
    label: String,
    symbol: &'static str,
    disabled: bool,
) -> impl IntoView {
    view! {
        <ActionForm action>
            <input type="hidden" name="line_id" value=line_id />
            <input type="hidden" name="quantity" value=to />
            <button
                type="submit"
                class="flex h-9 w-9 items-center justify-center rounded-md border border-stone-300 text-lg hover:bg-stone-100 focus-ring disabled:opacity-40"
                aria-label=label
                disabled=disabled
            >
                {symbol}
            </button>
        </ActionForm>
    }
}
