//! Categories, products, variants, stock, images, search, listings and the catalog's
//! import and export.
//!
//! The [`Catalog`] handle is what the application holds: the database plus the small
//! in-memory state the catalog keeps (read caches, the category tree). Every change to the catalog is a method of [`Catalog`] (defined beside the data
//! it changes: [`products::edit`], [`variants`], [`stock`], [`images::gallery`],
//! [`categories::edit`], [`import`]) and drops the read caches itself. Reads that only need
//! the database take a [`Db`] like every other service.
//!
//! Modules by what they hold:
//! - [`products`]: a product as pages show it, cards, the back office's product list, and
//!   creating and changing products ([`products::edit`]);
//! - [`variants`]: a product's SKUs, their prices, and what the cart reads of them;
//! - [`stock`]: the stock ledger;
//! - [`categories`]: the category tree and its changes;
//! - [`images`]: what pages show, file storage, upload processing and a product's gallery;
//! - [`search`] and [`listing`]: the shop's searches, category pages, filters and facets;
//! - [`import`] and [`export`]: the catalog as JSONL and CSV files;
//! - [`editor`]: who may change what, and the audit entry every change writes.

mod cache;
pub mod categories;
pub mod editor;
pub mod export;
pub mod images;
pub mod import;
mod index;
pub mod listing;
pub mod markdown;
pub mod products;
pub mod search;
pub mod slug;
mod sql;
pub mod stock;
pub mod variants;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use shop_core::{Clock, Db, Money};

pub use cache::READ_TTL;

/// The outbox event of every change an editor makes to a product (its fields, status,
/// variants, stock or images): `{"product_id", "change"}`, `change` being the audit action
/// (`product.updated`, `variant.created`, `stock.adjusted`, ...).
pub const PRODUCT_UPDATED: &str = "product.updated";
pub use categories::{Category, CategoryTree};
pub use editor::{Access, Editor};
pub use images::{BucketConfig, ImageRef, ImageStore};
pub use listing::{Filters, Listing, ListingQuery, Scope, Sort};
pub use products::{ProductDetail, StockStatus, Variant};
pub use search::{SearchTerms, Suggestion};

pub use shop_core::{CategoryId, ProductId, VariantId};

shop_core::define_id!(
    /// Identifies one image of a product's gallery.
    ImageId
);

/// Highest accepted price, in minor units (one million in the currency).
pub(crate) const MAX_PRICE_MINOR: i64 = 100_000_000;
/// Most units of one variant on hand.
pub(crate) const MAX_STOCK: i64 = 10_000_000;

/// Whether shoppers can see a product.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProductStatus {
    Draft,
    Active,
    Archived,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Draft => "draft",
            ProductStatus::Active => "active",
            ProductStatus::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<ProductStatus> {
        match s {
            "draft" => Some(ProductStatus::Draft),
            "active" => Some(ProductStatus::Active),
            "archived" => Some(ProductStatus::Archived),
            _ => None,
        }
    }

    fn from_db(s: &str) -> ProductStatus {
        ProductStatus::parse(s).unwrap_or(ProductStatus::Draft)
    }
}

/// Why a catalog operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Bad input; `field` names the form field it concerns.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl CatalogError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        CatalogError::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// A product as a listing card shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductCard {
    pub id: ProductId,
    pub name: String,
    pub slug: String,
    pub brand: String,
    /// The lowest active variant price.
    pub price: Money,
    /// The highest; above `price` the card says "from".
    pub max_price: Money,
    /// The cheapest variant's compare-at price, when above its price.
    pub compare_at: Option<Money>,
    /// Units available across active variants.
    pub available: i64,
    pub image: Option<ImageRef>,
    /// The only active variant, when the product has exactly one: it can go into the cart
    /// without choosing options.
    pub sole_variant: Option<VariantId>,
}

/// The result of a search page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchResult {
    pub listing: Listing,
    /// True when nothing matched every word as typed and the results match the last word
    /// as a prefix instead.
    pub used_prefix: bool,
    /// When nothing matched: shorter searches that do find something, with their counts.
    pub suggestions: Vec<(String, i64)>,
}

/// The catalog: database plus caches. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Catalog {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    clock: Clock,
    tree: categories::TreeCache,
    listings: cache::ReadCache<Listing>,
    searches: cache::ReadCache<SearchResult>,
    products: cache::ReadCache<Option<ProductDetail>>,
    cards: cache::ReadCache<Vec<ProductCard>>,
    variants: cache::ReadCache<Vec<variants::SellableVariant>>,
    /// Bumped by every change ([`Catalog::changes`]).
    changes: AtomicU64,
    /// Tells the cluster's other processes about this one's changes (see
    /// [`Catalog::share_changes`]).
    signals: std::sync::OnceLock<shop_core::signals::Signals>,
}

/// The signal channel on which a process tells the others its catalog changed.
pub const CHANGED: &str = "catalog_changed";

impl Catalog {
    /// A catalog whose shared reads (listings, searches, product pages, the home page's
    /// lists) are cached for `read_ttl`; zero turns that cache off.
    pub fn new(db: Db, clock: Clock, read_ttl: std::time::Duration) -> Catalog {
        Catalog {
            inner: Arc::new(Inner {
                db,
                clock,
                tree: categories::TreeCache::default(),
                listings: cache::ReadCache::new(read_ttl),
                searches: cache::ReadCache::new(read_ttl),
                products: cache::ReadCache::new(read_ttl),
                cards: cache::ReadCache::new(read_ttl),
                variants: cache::ReadCache::new(read_ttl),
                changes: AtomicU64::new(0),
                signals: std::sync::OnceLock::new(),
            }),
        }
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// How many changes this instance has made to the catalog since it started: whatever
    /// keeps something drawn from the catalog (the server's page cache) keys it by this, so
    /// a change drops it at once.
    pub fn changes(&self) -> u64 {
        self.inner.changes.load(Ordering::SeqCst)
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The category tree (cached; see [`categories`]).
    pub async fn tree(&self) -> Result<Arc<CategoryTree>, CatalogError> {
        Ok(self.inner.tree.get(&self.inner.db).await?)
    }

    /// From now on, tells the other processes sharing the database (PostgreSQL) about every
    /// change this one makes, so they drop their caches too (see [`Catalog::follow_changes`]).
    pub fn share_changes(&self, signals: shop_core::signals::Signals) {
        let _ = self.inner.signals.set(signals);
    }

    /// Drops this process's caches whenever another process sharing the database changes
    /// the catalog (or the signals' connection was lost), until `stop` turns true.
    pub async fn follow_changes(
        &self,
        signals: shop_core::signals::Signals,
        stop: tokio::sync::watch::Receiver<bool>,
    ) {
        signals.listen(CHANGED, || self.drop_cached(), stop).await;
    }

    /// Drops cached data after a change to the catalog. Every write method calls it; nothing
    /// outside the catalog needs to. The other processes sharing the database are told.
    pub(crate) fn changed(&self) {
        self.drop_cached();
        // Nothing to tell on SQLite (one process).
        if let Some(signals) = self.inner.signals.get().filter(|s| s.shared()).cloned() {
            // After the commit (every caller has committed), so a process that hears this
            // reads the change.
            tokio::spawn(async move {
                if let Err(e) = signals.send(CHANGED).await {
                    tracing::warn!(error = %e, "could not tell other instances about a catalog change; their caches expire by themselves");
                }
            });
        }
    }

    /// Empties every cache and bumps the change count.
    fn drop_cached(&self) {
        self.inner.tree.invalidate();
        self.inner.listings.invalidate();
        self.inner.searches.invalidate();
        self.inner.products.invalidate();
        self.inner.cards.invalidate();
        self.inner.variants.invalidate();
        // After the caches are emptied: a render keyed by the new count reads fresh data.
        self.inner.changes.fetch_add(1, Ordering::SeqCst);
    }

    /// A product by its slug, whatever its status (cached; see [`READ_TTL`]).
    pub async fn product_by_slug(&self, slug: &str) -> Result<Option<ProductDetail>, CatalogError> {
        let db = &self.inner.db;
        let product = self
            .inner
            .products
            .get_or_load(slug.to_owned(), || products::by_slug(db, slug))
            .await?;
        Ok((*product).clone())
    }

    /// The variants with these ids, as [`variants::sellable`] reads them, but cached like the
    /// catalog's pages (see [`READ_TTL`]): for what only shows a cart (the header's count and
    /// summary), never for what the cart page or checkout decide on.
    pub async fn sellable_for_display(
        &self,
        ids: &[VariantId],
    ) -> Result<Arc<Vec<variants::SellableVariant>>, CatalogError> {
        let db = &self.inner.db;
        let key = ids
            .iter()
            .map(VariantId::as_str)
            .collect::<Vec<_>>()
            .join(",");
        self.inner
            .variants
            .get_or_load(key, || variants::sellable(db, ids))
            .await
    }

    /// Active products shown beside `product` (cached).
    pub async fn related(
        &self,
        product: &ProductDetail,
        limit: i64,
    ) -> Result<Vec<ProductCard>, CatalogError> {
        let db = &self.inner.db;
        self.cached_cards(format!("related|{}|{limit}", product.id), || {
            products::related(db, product, limit)
        })
        .await
    }

    /// Featured products, newest first (cached).
    pub async fn featured(&self, limit: i64) -> Result<Vec<ProductCard>, CatalogError> {
        let db = &self.inner.db;
        self.cached_cards(format!("featured|{limit}"), || {
            products::featured(db, limit)
        })
        .await
    }

    /// The newest products (cached).
    pub async fn newest(&self, limit: i64) -> Result<Vec<ProductCard>, CatalogError> {
        let db = &self.inner.db;
        self.cached_cards(format!("newest|{limit}"), || products::newest(db, limit))
            .await
    }

    async fn cached_cards<Fut>(
        &self,
        key: String,
        load: impl FnOnce() -> Fut,
    ) -> Result<Vec<ProductCard>, CatalogError>
    where
        Fut: std::future::Future<Output = Result<Vec<ProductCard>, CatalogError>>,
    {
        let cards = self.inner.cards.get_or_load(key, load).await?;
        Ok((*cards).clone())
    }

    /// A category's products (the category and everything below it).
    pub async fn category_listing(
        &self,
        category: &Category,
        filters: Filters,
        sort: Sort,
        page: i64,
    ) -> Result<Listing, CatalogError> {
        self.listing(Some(category), filters, sort, page).await
    }

    /// The products of `category` (and everything below it), or with `None` of every
    /// category: the whole catalog, as the JSON API lists it.
    pub async fn listing(
        &self,
        category: Option<&Category>,
        filters: Filters,
        sort: Sort,
        page: i64,
    ) -> Result<Listing, CatalogError> {
        let filters = filters.normalized()?;
        let scope_key = category.map_or("*", |c| c.id.as_str());
        let key = format!("{scope_key}|{filters:?}|{}|{page}", sort.key());
        let listing = self
            .inner
            .listings
            .get_or_load(key, || async {
                let tree = self.tree().await?;
                let ids = match category {
                    Some(category) => tree.subtree_ids(&category.id),
                    None => tree
                        .all()
                        .iter()
                        .map(|c| c.id.as_str().to_owned())
                        .collect(),
                };
                let query = ListingQuery {
                    scope: Scope::Categories(ids),
                    filters,
                    sort,
                    page,
                };
                listing::run(&self.inner.db, &query).await
            })
            .await?;
        Ok((*listing).clone())
    }

    /// A search: every word must match. When nothing does, the last word is tried as a
    /// prefix, and failing that, shorter searches are suggested.
    pub async fn search(
        &self,
        terms: &SearchTerms,
        filters: Filters,
        sort: Sort,
        page: i64,
    ) -> Result<SearchResult, CatalogError> {
        let filters = filters.normalized()?;
        let key = format!("{:?}|{filters:?}|{}|{page}", terms.words, sort.key());
        let result = self
            .inner
            .searches
            .get_or_load(key, || self.run_search(terms, filters, sort, page))
            .await?;
        Ok((*result).clone())
    }

    async fn run_search(
        &self,
        terms: &SearchTerms,
        filters: Filters,
        sort: Sort,
        page: i64,
    ) -> Result<SearchResult, CatalogError> {
        let db = &self.inner.db;
        let mut query = ListingQuery {
            scope: Scope::Search {
                terms: terms.clone(),
                prefix: false,
            },
            filters,
            sort,
            page,
        };
        let mut listing = listing::run(db, &query).await?;
        let mut used_prefix = false;
        if listing.total == 0 && query.filters.is_empty() {
            query.scope = Scope::Search {
                terms: terms.clone(),
                prefix: true,
            };
            let retry = listing::run(db, &query).await?;
            if retry.total > 0 {
                listing = retry;
                used_prefix = true;
            }
        }
        let mut suggestions = Vec::new();
        if listing.total == 0 && terms.words.len() > 1 {
            for i in 0..terms.words.len() {
                let shorter = terms.without(i);
                let count = listing::count(
                    db,
                    &Scope::Search {
                        terms: shorter.clone(),
                        prefix: false,
                    },
                )
                .await?;
                if count > 0 {
                    suggestions.push((shorter.raw, count));
                }
            }
            suggestions.sort_by_key(|s| std::cmp::Reverse(s.1));
            suggestions.truncate(3);
        }
        Ok(SearchResult {
            listing,
            used_prefix,
            suggestions,
        })
    }

    /// Type-ahead: product names starting with what was typed.
    pub async fn suggest(&self, input: &str) -> Result<Vec<Suggestion>, CatalogError> {
        Ok(search::suggest(&self.inner.db, input, 8).await?)
    }
}
