//! A cart as the shopper sees it: every line at the catalog's current price and stock, what
//! stops a line from going to checkout, and the totals (checked arithmetic, never floats).

use catalog::ImageRef;
use catalog::variants::SellableVariant;
use shop_core::{CartId, Db, LineId, Money, ProductId, UserId, VariantId};

use crate::CartError;

/// What a line holds, as the cart sees it: the variant, what it costs now and how many can be
/// sold. Read from the catalog at each look (never from a cache, except for
/// [`load_for_display`]), so price and stock are current.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub variant_id: VariantId,
    pub product_id: ProductId,
    pub product_name: String,
    /// The product page's slug.
    pub slug: String,
    pub sku: String,
    /// Option values such as `[("size", "M")]`.
    pub options: Vec<(String, String)>,
    /// The current price.
    pub price: Money,
    /// Units that can still be sold.
    pub available: i64,
    /// The product is published and the variant not archived.
    pub on_sale: bool,
    pub image: Option<ImageRef>,
    /// The product's vendor, if a vendor sells it.
    pub vendor_id: Option<UserId>,
}

impl From<SellableVariant> for Item {
    fn from(v: SellableVariant) -> Self {
        Item {
            variant_id: v.id,
            product_id: v.product_id,
            product_name: v.product_name,
            slug: v.slug,
            sku: v.sku,
            options: v.options,
            price: v.price,
            available: v.available,
            on_sale: v.on_sale,
            image: v.image,
            vendor_id: v.vendor_id,
        }
    }
}

/// The items with these variant ids that exist (unknown ids are left out).
pub(crate) async fn items(db: &Db, ids: &[VariantId]) -> Result<Vec<Item>, CartError> {
    let found = catalog::variants::sellable(db, ids).await?;
    Ok(found.into_iter().map(Item::from).collect())
}

/// A cart line as stored.
#[derive(sqlx::FromRow)]
struct LineRow {
    id: String,
    variant_id: String,
    quantity: i64,
    unit_price_minor: i64,
    currency: String,
}

/// Why a line cannot go to checkout as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Archived, unpublished or deleted.
    NotOnSale,
    OutOfStock,
    /// Only this many are available now.
    NotEnough(i64),
}

/// A line as the cart page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub id: LineId,
    pub item: Item,
    pub quantity: i64,
    /// The current price (what the total uses).
    pub unit_price: Money,
    /// The price when the line was added, if it differs from the current one.
    pub was: Option<Money>,
    pub line_total: Money,
    pub problem: Option<Problem>,
}

/// A cart with its lines at current prices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cart {
    pub id: CartId,
    pub lines: Vec<Line>,
    /// Sum of the line totals of lines without a problem; `None` when no line can be bought
    /// as it is (or the cart is empty).
    pub subtotal: Option<Money>,
    /// Units in the cart, flagged lines included (the header's count).
    pub items: i64,
    /// Every line can be bought as it is.
    pub ready_for_checkout: bool,
}

/// Units in a cart (what the header counts).
pub async fn units(db: &Db, cart: &CartId) -> Result<i64, CartError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM cart_lines WHERE cart_id = $1",
    )
    .bind(cart.as_str())
    .fetch_one(db.reader())
    .await?;
    Ok(n)
}

/// Reads a cart at the catalog's current prices and stock.
pub async fn load(db: &Db, cart: &CartId) -> Result<Cart, CartError> {
    load_holding(db, cart, &[]).await
}

/// Reads a cart at the catalog's current prices and stock, counting `held` (the units the
/// cart's own unpaid order holds, per variant) as available to it: a shopper's own hold
/// never makes their cart look sold out.
pub async fn load_holding(
    db: &Db,
    cart: &CartId,
    held: &[(VariantId, i64)],
) -> Result<Cart, CartError> {
    let rows = line_rows(db, cart).await?;
    let items = items(db, &variant_ids(&rows)).await?;
    priced(cart, rows, items, held)
}

/// A cart to show beside a page (the header's count and summary): as [`load`], but at the
/// catalog's cached prices and stock, as current as the catalog's pages (see
/// [`catalog::READ_TTL`]), so it costs one query. Never for deciding anything: the cart page
/// and checkout use [`load`].
pub async fn load_for_display(
    db: &Db,
    catalog: &catalog::Catalog,
    cart: &CartId,
) -> Result<Cart, CartError> {
    let rows = line_rows(db, cart).await?;
    let ids = variant_ids(&rows);
    let items = if ids.is_empty() {
        Vec::new()
    } else {
        let found = catalog.sellable_for_display(&ids).await?;
        found.iter().cloned().map(Item::from).collect()
    };
    priced(cart, rows, items, &[])
}

async fn line_rows(db: &Db, cart: &CartId) -> Result<Vec<LineRow>, CartError> {
    Ok(sqlx::query_as(
        "SELECT id, variant_id, quantity, unit_price_minor, currency FROM cart_lines
         WHERE cart_id = $1 ORDER BY created_at, id",
    )
    .bind(cart.as_str())
    .fetch_all(db.reader())
    .await?)
}

fn variant_ids(rows: &[LineRow]) -> Vec<VariantId> {
    rows.iter()
        .map(|r| VariantId::from_db(r.variant_id.clone()))
        .collect()
}

/// The cart's lines at the prices and stock of `items`, with `held` counted as available.
fn priced(
    cart: &CartId,
    rows: Vec<LineRow>,
    mut items: Vec<Item>,
    held: &[(VariantId, i64)],
) -> Result<Cart, CartError> {
    for item in &mut items {
        if let Some((_, units)) = held.iter().find(|(v, _)| *v == item.variant_id) {
            item.available += units;
        }
    }
    let mut lines = Vec::with_capacity(rows.len());
    let mut subtotal: Option<Money> = None;
    let mut units = 0_i64;
    for row in rows {
        let LineRow {
            id,
            variant_id,
            quantity,
            unit_price_minor: snapshot,
            currency,
        } = row;
        // A variant deleted from the catalog takes its lines with it (ON DELETE CASCADE),
        // so a missing one was deleted a moment ago: leave it out.
        let Some(v) = items
            .iter()
            .find(|v| v.variant_id.as_str() == variant_id)
            .cloned()
        else {
            continue;
        };
        let unit_price = v.price;
        let was = (snapshot != unit_price.minor() || currency != unit_price.currency().code())
            .then(|| currency.parse().ok().map(|c| Money::new(snapshot, c)))
            .flatten();
        let problem = if !v.on_sale {
            Some(Problem::NotOnSale)
        } else if v.available < 1 {
            Some(Problem::OutOfStock)
        } else if quantity > v.available {
            Some(Problem::NotEnough(v.available))
        } else {
            None
        };
        let line_total = unit_price
            .checked_mul(quantity)
            .map_err(|_| CartError::TotalTooLarge)?;
        units += quantity;
        if problem.is_none() {
            subtotal = Some(match subtotal {
                None => line_total,
                Some(s) => s
                    .checked_add(line_total)
                    .map_err(|_| CartError::TotalTooLarge)?,
            });
        }
        lines.push(Line {
            id: LineId::from_db(id),
            item: v,
            quantity,
            unit_price,
            was,
            line_total,
            problem,
        });
    }
    let ready_for_checkout = !lines.is_empty() && lines.iter().all(|l| l.problem.is_none());
    Ok(Cart {
        id: cart.clone(),
        lines,
        subtotal,
        items: units,
        ready_for_checkout,
    })
}
