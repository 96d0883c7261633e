//! Product listings: a category's products or a search's results, filtered, sorted, paged,
//! with facet counts.
//!
//! Facets are disjunctive: the counts shown for one filter group (say, brands) apply every
//! *other* active filter but not that group's own, so ticking a second brand shows how many
//! products it would add. Every sort ends with the product id, so pages never overlap or
//! skip a product while the catalog is unchanged.

use shop_core::{Backend, Currency, Db, Money};

use crate::search::{self, Ranking, SearchTerms};
use crate::sql::Sql;
use crate::{CatalogError, ProductCard};

/// Products per listing page.
pub const PER_PAGE: i64 = 20;
/// Highest page number accepted (deeper pages are refused, not scanned).
pub const MAX_PAGE: i64 = 500;
/// Most values accepted per filter group.
pub const MAX_FILTER_VALUES: usize = 20;
/// Attribute groups shown as facets.
const MAX_ATTRIBUTE_FACETS: usize = 6;
/// Values shown per attribute group.
const MAX_VALUES_PER_FACET: usize = 30;

/// How a listing is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Sort {
    /// Search: an exact name match, then best match. Category: sold-out last, then featured
    /// and popular first.
    #[default]
    Relevance,
    Newest,
    PriceAsc,
    PriceDesc,
    Popularity,
}

impl Sort {
    pub const ALL: [Sort; 5] = [
        Sort::Relevance,
        Sort::Newest,
        Sort::PriceAsc,
        Sort::PriceDesc,
        Sort::Popularity,
    ];

    /// The value used in URLs (`?sort=price-asc`).
    pub fn key(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::Newest => "newest",
            Sort::PriceAsc => "price-asc",
            Sort::PriceDesc => "price-desc",
            Sort::Popularity => "popular",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::Relevance => "Relevance",
            Sort::Newest => "Newest",
            Sort::PriceAsc => "Price: low to high",
            Sort::PriceDesc => "Price: high to low",
            Sort::Popularity => "Most popular",
        }
    }

    /// Parses a URL value; unknown values fall back to relevance.
    pub fn from_key(key: &str) -> Sort {
        Sort::ALL
            .into_iter()
            .find(|s| s.key() == key)
            .unwrap_or_default()
    }
}

/// The shopper's filters. Prices are in minor units.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Filters {
    pub brands: Vec<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub in_stock: bool,
    /// `(attribute name, value)` pairs; values of one name are alternatives (OR), names
    /// combine with AND.
    pub attributes: Vec<(String, String)>,
}

impl Filters {
    /// Checks limits and tidies the filters: trims, drops empties and duplicates, orders a
    /// reversed price range.
    pub fn normalized(mut self) -> Result<Filters, CatalogError> {
        let clean = |s: &str| s.trim().to_owned();
        self.brands = dedup(
            self.brands
                .iter()
                .map(|b| clean(b))
                .filter(|b| !b.is_empty()),
        );
        self.attributes = dedup(
            self.attributes
                .iter()
                .map(|(n, v)| (clean(n), clean(v)))
                .filter(|(n, v)| !n.is_empty() && !v.is_empty()),
        );
        if self.brands.len() > MAX_FILTER_VALUES || self.attributes.len() > MAX_FILTER_VALUES {
            return Err(CatalogError::invalid(
                "filters",
                format!("choose at most {MAX_FILTER_VALUES} values per filter"),
            ));
        }
        if self
            .brands
            .iter()
            .chain(self.attributes.iter().flat_map(|(n, v)| [n, v]))
            .any(|s| s.chars().count() > 100)
        {
            return Err(CatalogError::invalid(
                "filters",
                "a filter value is too long",
            ));
        }
        if let (Some(lo), Some(hi)) = (self.min_price, self.max_price)
            && lo > hi
        {
            self.min_price = Some(hi);
            self.max_price = Some(lo);
        }
        if self.min_price.is_some_and(|p| p < 0) || self.max_price.is_some_and(|p| p < 0) {
            return Err(CatalogError::invalid("price", "prices cannot be negative"));
        }
        Ok(self)
    }

    pub fn is_empty(&self) -> bool {
        self.brands.is_empty()
            && self.min_price.is_none()
            && self.max_price.is_none()
            && !self.in_stock
            && self.attributes.is_empty()
    }
}

fn dedup<T: PartialEq>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Which products a listing starts from.
#[derive(Clone, Debug)]
pub enum Scope {
    /// Products in these categories (a category and everything below it).
    Categories(Vec<String>),
    /// Products matching a search.
    Search { terms: SearchTerms, prefix: bool },
}

/// A listing request.
#[derive(Clone, Debug)]
pub struct ListingQuery {
    pub scope: Scope,
    pub filters: Filters,
    pub sort: Sort,
    /// 1-based.
    pub page: i64,
}

/// One value of a facet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FacetValue {
    pub value: String,
    pub count: i64,
    pub selected: bool,
}

/// An attribute facet, e.g. colour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeFacet {
    pub name: String,
    pub values: Vec<FacetValue>,
}

/// Facet counts for a listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facets {
    pub brands: Vec<FacetValue>,
    pub attributes: Vec<AttributeFacet>,
    /// Products in stock, with every filter but "in stock" applied.
    pub in_stock: i64,
    /// Cheapest and dearest product in the listing before the price filter.
    pub price_range: Option<(Money, Money)>,
}

/// A page of a listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    pub items: Vec<ProductCard>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub facets: Facets,
}

/// Which filter group to leave out (for disjunctive facet counts).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Except<'a> {
    Nothing,
    Brands,
    InStock,
    Price,
    Attribute(&'a str),
}

struct Builder<'a> {
    backend: Backend,
    query: &'a ListingQuery,
}

impl Builder<'_> {
    /// `WITH s AS (...)` for searches (the matches, with their rank when `ranking` asks for
    /// it: only the page's own query orders by rank), empty otherwise.
    fn with(&self, ranking: Ranking) -> Sql {
        match &self.query.scope {
            Scope::Search { terms, prefix } => {
                search::matches_cte(self.backend, terms, *prefix, ranking)
            }
            Scope::Categories(_) => Sql::new(""),
        }
    }

    /// `FROM products p [JOIN s ...] WHERE <scope> AND <filters except one group>`.
    fn body(&self, except: Except<'_>) -> Sql {
        // Category pages read a covering index by category (and, for products placed in a
        // category besides their own, one by id): the wide product rows are never read.
        let mut sql = match &self.query.scope {
            Scope::Search { .. } => {
                Sql::new(" FROM s JOIN products p ON p.id = s.product_id WHERE p.status = 'active'")
            }
            Scope::Categories(ids) if ids.is_empty() => {
                Sql::new(" FROM products p WHERE p.status = 'active' AND 1 = 0")
            }
            Scope::Categories(ids) => {
                let mut sql =
                    Sql::new(" FROM products p WHERE p.status = 'active' AND (p.category_id IN ");
                sql.bind_list(ids)
                    .push(" OR p.id IN (SELECT pc.product_id FROM product_categories pc WHERE pc.category_id IN ")
                    .bind_list(ids)
                    .push("))");
                sql
            }
        };
        let f = &self.query.filters;
        if except != Except::Brands && !f.brands.is_empty() {
            sql.push(" AND p.brand IN ").bind_list(&f.brands);
        }
        if except != Except::InStock && f.in_stock {
            sql.push(" AND p.available > 0");
        }
        if except != Except::Price {
            if let Some(lo) = f.min_price {
                sql.push(" AND p.price_minor >= ").bind(lo);
            }
            if let Some(hi) = f.max_price {
                sql.push(" AND p.price_minor <= ").bind(hi);
            }
        }
        for name in attribute_names(f) {
            if except == Except::Attribute(name) {
                continue;
            }
            let values: Vec<&str> = f
                .attributes
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .collect();
            sql.push(" AND p.id IN (SELECT f.product_id FROM product_facets f WHERE f.name = ")
                .bind(name)
                .push(" AND f.value IN ")
                .bind_list(&values)
                .push(")");
        }
        sql
    }

    fn order_by(&self) -> &'static str {
        let search = matches!(self.query.scope, Scope::Search { .. });
        match (self.query.sort, search) {
            (Sort::Relevance, true) => " ORDER BY s.exact, s.rank, p.id",
            (Sort::Relevance, false) => {
                " ORDER BY CASE WHEN p.available > 0 THEN 0 ELSE 1 END, p.featured DESC, p.popularity DESC, p.created_at DESC, p.id"
            }
            (Sort::Newest, _) => " ORDER BY p.created_at DESC, p.id",
            (Sort::PriceAsc, _) => " ORDER BY p.price_minor, p.id",
            (Sort::PriceDesc, _) => " ORDER BY p.price_minor DESC, p.id",
            (Sort::Popularity, _) => " ORDER BY p.popularity DESC, p.created_at DESC, p.id",
        }
    }
}

fn attribute_names(f: &Filters) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for (n, _) in &f.attributes {
        if !names.contains(&n.as_str()) {
            names.push(n);
        }
    }
    names
}

/// The columns a [`ProductCard`] is read from.
pub(crate) const CARD_COLUMNS: &str = "p.id, p.name, p.slug, p.brand, p.price_minor, p.max_price_minor, p.compare_at_minor, p.currency, p.available, p.cover_image, p.cover_alt, p.sole_variant_id";

/// A product card as the database holds it ([`CARD_COLUMNS`]).
#[derive(sqlx::FromRow)]
pub(crate) struct CardRow {
    id: String,
    name: String,
    slug: String,
    brand: String,
    price_minor: i64,
    max_price_minor: i64,
    compare_at_minor: Option<i64>,
    currency: String,
    available: i64,
    cover_image: Option<String>,
    cover_alt: Option<String>,
    sole_variant_id: Option<String>,
}

pub(crate) fn card(row: CardRow) -> Option<ProductCard> {
    let currency: Currency = row.currency.parse().ok()?;
    let price = row.price_minor;
    Some(ProductCard {
        id: crate::ProductId::from_db(row.id),
        name: row.name,
        slug: row.slug,
        brand: row.brand,
        price: Money::new(price, currency),
        max_price: Money::new(row.max_price_minor, currency),
        compare_at: row
            .compare_at_minor
            .filter(|c| *c > price)
            .map(|c| Money::new(c, currency)),
        available: row.available,
        image: row.cover_image.map(|hash| crate::images::ImageRef {
            hash,
            alt: row.cover_alt.unwrap_or_default(),
        }),
        sole_variant: row.sole_variant_id.map(crate::VariantId::from_db),
    })
}

/// The cards of `ids`, in that order.
async fn cards_in_order(db: &Db, ids: &[String]) -> Result<Vec<ProductCard>, CatalogError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new("SELECT ");
    sql.push(CARD_COLUMNS)
        .push(" FROM products p WHERE p.id IN ")
        .bind_list(ids);
    let mut cards: Vec<ProductCard> =
        sqlx::query_as_with::<_, CardRow, _>(sql.text(), sql.arguments())
            .fetch_all(db.reader())
            .await?
            .into_iter()
            .filter_map(card)
            .collect();
    cards.sort_by_key(|c| ids.iter().position(|id| id == c.id.as_str()));
    Ok(cards)
}

/// Runs a listing: the page of products, the total and the facets.
pub async fn run(db: &Db, query: &ListingQuery) -> Result<Listing, CatalogError> {
    if !(1..=MAX_PAGE).contains(&query.page) {
        return Err(CatalogError::invalid(
            "page",
            format!("page must be between 1 and {MAX_PAGE}"),
        ));
    }
    let b = Builder {
        backend: db.backend(),
        query,
    };
    // The page, the totals with brands and prices, and the attribute facets read the same
    // products but depend on nothing from each other: they run side by side, each on its
    // own reader connection, so a page costs its slowest query rather than their sum.
    let page = async {
        // Its ids first (sorted on the listing indexes alone), then the cards.
        let mut ids_sql = b.with(Ranking::Ranked);
        ids_sql
            .push("SELECT p.id")
            .append(&b.body(Except::Nothing))
            .push(b.order_by())
            .push(" LIMIT ")
            .bind(PER_PAGE)
            .push(" OFFSET ")
            .bind((query.page - 1) * PER_PAGE);
        let ids: Vec<String> = sqlx::query_scalar_with(ids_sql.text(), ids_sql.arguments())
            .fetch_all(db.reader())
            .await?;
        cards_in_order(db, &ids).await
    };
    let f = &query.filters;
    let summary = async {
        if f.brands.is_empty() && f.min_price.is_none() && f.max_price.is_none() && !f.in_stock {
            // None of the filters the totals, brands and price range each leave out is set,
            // so all three read the same products: one pass, grouped by brand.
            brand_summary(&b, db).await
        } else {
            let ((total, in_stock), brands, price_range) =
                tokio::try_join!(totals(&b, db), brand_facet(&b, db), price_range(&b, db))?;
            Ok((total, in_stock, brands, price_range))
        }
    };
    let (items, (total, in_stock, brands, price_range), attributes) =
        tokio::try_join!(page, summary, attribute_facets(&b, db))?;
    Ok(Listing {
        items,
        total,
        page: query.page,
        pages: (total + PER_PAGE - 1) / PER_PAGE,
        facets: Facets {
            brands,
            attributes,
            in_stock,
            price_range,
        },
    })
}

/// How many products a listing holds, and how many of them are in stock.
#[derive(sqlx::FromRow)]
struct Totals {
    count: i64,
    in_stock: i64,
}

/// The listing's total and how many of its products are in stock. Both apply every filter
/// but "in stock", so one query gives both counts.
async fn totals(b: &Builder<'_>, db: &Db) -> Result<(i64, i64), CatalogError> {
    let mut sql = b.with(Ranking::Unranked);
    sql.push(
        "SELECT COUNT(*) AS count,
                COALESCE(SUM(CASE WHEN p.available > 0 THEN 1 ELSE 0 END), 0) AS in_stock",
    )
    .append(&b.body(Except::InStock));
    let Totals { count, in_stock }: Totals = sqlx::query_as_with(sql.text(), sql.arguments())
        .fetch_one(db.reader())
        .await?;
    let total = if b.query.filters.in_stock {
        in_stock
    } else {
        count
    };
    Ok((total, in_stock))
}

/// Brand, price and stock figures per brand.
#[derive(sqlx::FromRow)]
struct BrandRow {
    brand: String,
    count: i64,
    in_stock: i64,
    low: i64,
    high: i64,
    currency: String,
}

/// Total, in stock, brand facet and price range in one query, for a listing without brand,
/// price or stock filters (each of those figures then reads the same products).
async fn brand_summary(
    b: &Builder<'_>,
    db: &Db,
) -> Result<(i64, i64, Vec<FacetValue>, Option<(Money, Money)>), CatalogError> {
    let mut sql = b.with(Ranking::Unranked);
    sql.push(
        "SELECT p.brand, COUNT(*) AS count,
                SUM(CASE WHEN p.available > 0 THEN 1 ELSE 0 END) AS in_stock,
                MIN(p.price_minor) AS low, MAX(p.price_minor) AS high, MIN(p.currency) AS currency",
    )
    .append(&b.body(Except::Nothing))
    .push(" GROUP BY p.brand ORDER BY p.brand");
    let rows: Vec<BrandRow> = sqlx::query_as_with(sql.text(), sql.arguments())
        .fetch_all(db.reader())
        .await?;
    let total = rows.iter().map(|r| r.count).sum();
    let in_stock = rows.iter().map(|r| r.in_stock).sum();
    let low = rows.iter().map(|r| r.low).min();
    let high = rows.iter().map(|r| r.high).max();
    let currency = rows.iter().map(|r| r.currency.clone()).min();
    let price_range = money_range(low, high, currency);
    let brands = rows
        .into_iter()
        .filter(|r| !r.brand.is_empty())
        .map(|r| FacetValue {
            value: r.brand,
            count: r.count,
            selected: false,
        })
        .collect();
    Ok((total, in_stock, brands, price_range))
}

/// A brand and how many listed products have it.
#[derive(sqlx::FromRow)]
struct BrandCount {
    brand: String,
    count: i64,
}

async fn brand_facet(b: &Builder<'_>, db: &Db) -> Result<Vec<FacetValue>, CatalogError> {
    let mut sql = b.with(Ranking::Unranked);
    sql.push("SELECT p.brand, COUNT(*) AS count")
        .append(&b.body(Except::Brands))
        .push(" AND p.brand <> '' GROUP BY p.brand ORDER BY p.brand");
    let rows: Vec<BrandCount> = sqlx::query_as_with(sql.text(), sql.arguments())
        .fetch_all(db.reader())
        .await?;
    let selected = &b.query.filters.brands;
    let mut values: Vec<FacetValue> = rows
        .into_iter()
        .map(|r| FacetValue {
            selected: selected.contains(&r.brand),
            value: r.brand,
            count: r.count,
        })
        .collect();
    // A chosen brand stays visible (with 0) so it can be unticked.
    for brand in selected {
        if !values.iter().any(|v| &v.value == brand) {
            values.push(FacetValue {
                value: brand.clone(),
                count: 0,
                selected: true,
            });
        }
    }
    Ok(values)
}

/// An attribute value and how many products have it.
#[derive(sqlx::FromRow)]
struct FacetRow {
    name: String,
    value: String,
    count: i64,
}

async fn attribute_facets(b: &Builder<'_>, db: &Db) -> Result<Vec<AttributeFacet>, CatalogError> {
    let filters = &b.query.filters;
    if let Scope::Categories(ids) = &b.query.scope
        && !ids.is_empty()
        && filters.is_empty()
    {
        return category_attribute_facets(ids, db).await;
    }
    let active = attribute_names(filters);
    let mut rows: Vec<FacetRow> = Vec::new();
    // Groups without an active filter: one query with every filter applied.
    let mut sql = b.with(Ranking::Unranked);
    sql.push(
        "SELECT f.name, f.value, COUNT(*) AS count FROM product_facets f
         WHERE f.product_id IN (SELECT p.id",
    )
    .append(&b.body(Except::Nothing))
    .push(")");
    if !active.is_empty() {
        sql.push(" AND f.name NOT IN ").bind_list(&active);
    }
    sql.push(" GROUP BY f.name, f.value");
    rows.extend(
        sqlx::query_as_with::<_, FacetRow, _>(sql.text(), sql.arguments())
            .fetch_all(db.reader())
            .await?,
    );
    // Each active group: every filter except its own.
    for name in &active {
        let mut sql = b.with(Ranking::Unranked);
        sql.push("SELECT f.name, f.value, COUNT(*) AS count FROM product_facets f WHERE f.name = ")
            .bind(*name)
            .push(" AND f.product_id IN (SELECT p.id")
            .append(&b.body(Except::Attribute(name)))
            .push(") GROUP BY f.name, f.value");
        rows.extend(
            sqlx::query_as_with::<_, FacetRow, _>(sql.text(), sql.arguments())
                .fetch_all(db.reader())
                .await?,
        );
    }
    Ok(group_attributes(rows, filters))
}

/// The attribute facets of an unfiltered category listing, read from the facet rows' own
/// copy of their product's category and status (one index range per category) instead of
/// looking up every listed product's rows. Products placed in one of the categories besides
/// their own are added once each, unless their own category is among them too.
async fn category_attribute_facets(
    ids: &[String],
    db: &Db,
) -> Result<Vec<AttributeFacet>, CatalogError> {
    let mut sql = Sql::new(
        "SELECT name, value, CAST(SUM(n) AS BIGINT) AS count FROM (
           SELECT f.name, f.value, COUNT(*) AS n FROM product_facets f
           WHERE f.status = 'active' AND f.category_id IN ",
    );
    sql.bind_list(ids)
        .push(
            " GROUP BY f.name, f.value
           UNION ALL
           SELECT f.name, f.value, COUNT(*) FROM product_facets f
           WHERE f.status = 'active' AND f.product_id IN
                 (SELECT pc.product_id FROM product_categories pc WHERE pc.category_id IN ",
        )
        .bind_list(ids)
        .push(") AND f.category_id NOT IN ")
        .bind_list(ids)
        .push(" GROUP BY f.name, f.value) counts GROUP BY name, value");
    let rows = sqlx::query_as_with::<_, FacetRow, _>(sql.text(), sql.arguments())
        .fetch_all(db.reader())
        .await?;
    Ok(group_attributes(rows, &Filters::default()))
}

/// Groups facet rows by attribute; keeps groups that can narrow the listing (two or more
/// values, or an active filter), the most widespread groups first.
fn group_attributes(rows: Vec<FacetRow>, filters: &Filters) -> Vec<AttributeFacet> {
    let mut groups: Vec<AttributeFacet> = Vec::new();
    for FacetRow { name, value, count } in rows {
        let selected = filters
            .attributes
            .iter()
            .any(|(n, v)| *n == name && *v == value);
        let facet_value = FacetValue {
            value,
            count,
            selected,
        };
        group_mut(&mut groups, &name).values.push(facet_value);
    }
    for (name, value) in &filters.attributes {
        let group = group_mut(&mut groups, name);
        if !group.values.iter().any(|v| &v.value == value) {
            group.values.push(FacetValue {
                value: value.clone(),
                count: 0,
                selected: true,
            });
        }
    }
    let is_active = |g: &AttributeFacet| g.values.iter().any(|v| v.selected);
    groups.retain(|g| g.values.len() >= 2 || is_active(g));
    let coverage = |g: &AttributeFacet| g.values.iter().map(|v| v.count).sum::<i64>();
    groups.sort_by(|a, b| {
        is_active(b)
            .cmp(&is_active(a))
            .then(coverage(b).cmp(&coverage(a)))
            .then(a.name.cmp(&b.name))
    });
    groups.truncate(MAX_ATTRIBUTE_FACETS.max(attribute_names(filters).len()));
    for g in &mut groups {
        g.values.sort_by(|a, b| {
            b.selected
                .cmp(&a.selected)
                .then(natural_cmp(&a.value, &b.value))
        });
        g.values
            .truncate(MAX_VALUES_PER_FACET.max(g.values.iter().filter(|v| v.selected).count()));
    }
    groups
}

/// The group for attribute `name`, added (empty) if missing.
fn group_mut<'a>(groups: &'a mut Vec<AttributeFacet>, name: &str) -> &'a mut AttributeFacet {
    let index = match groups.iter().position(|g| g.name == name) {
        Some(i) => i,
        None => {
            groups.push(AttributeFacet {
                name: name.to_owned(),
                values: Vec::new(),
            });
            groups.len() - 1
        }
    };
    &mut groups[index]
}

/// Orders "EU 9" before "EU 10" and "250 ml" before "1 l"-style values by their leading
/// number when both have one, otherwise alphabetically.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn number(s: &str) -> Option<(String, f64)> {
        let start = s.find(|c: char| c.is_ascii_digit())?;
        let digits: String = s[start..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        Some((s[..start].to_owned(), digits.parse().ok()?))
    }
    match (number(a), number(b)) {
        (Some((pa, na)), Some((pb, nb))) if pa == pb => na
            .partial_cmp(&nb)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.cmp(b)),
        _ => a.to_lowercase().cmp(&b.to_lowercase()),
    }
}

/// The lowest and highest price among listed products, and their (first) currency.
#[derive(sqlx::FromRow)]
struct PriceBounds {
    low: Option<i64>,
    high: Option<i64>,
    currency: Option<String>,
}

async fn price_range(b: &Builder<'_>, db: &Db) -> Result<Option<(Money, Money)>, CatalogError> {
    let mut sql = b.with(Ranking::Unranked);
    sql.push(
        "SELECT MIN(p.price_minor) AS low, MAX(p.price_minor) AS high,
                MIN(p.currency) AS currency",
    )
    .append(&b.body(Except::Price));
    let PriceBounds {
        low: lo,
        high: hi,
        currency,
    }: PriceBounds = sqlx::query_as_with(sql.text(), sql.arguments())
        .fetch_one(db.reader())
        .await?;
    Ok(money_range(lo, hi, currency))
}

/// The cheapest and dearest price as money, when there are prices in a known currency.
fn money_range(
    low: Option<i64>,
    high: Option<i64>,
    currency: Option<String>,
) -> Option<(Money, Money)> {
    match (low, high, currency.and_then(|c| c.parse::<Currency>().ok())) {
        (Some(lo), Some(hi), Some(c)) => Some((Money::new(lo, c), Money::new(hi, c))),
        _ => None,
    }
}

/// How many active products a scope holds (no filters).
pub(crate) async fn count(db: &Db, scope: &Scope) -> Result<i64, CatalogError> {
    let query = ListingQuery {
        scope: scope.clone(),
        filters: Filters::default(),
        sort: Sort::Relevance,
        page: 1,
    };
    let b = Builder {
        backend: db.backend(),
        query: &query,
    };
    let mut sql = b.with(Ranking::Unranked);
    sql.push("SELECT COUNT(*)").append(&b.body(Except::Nothing));
    Ok(sqlx::query_scalar_with(sql.text(), sql.arguments())
        .fetch_one(db.reader())
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizing_filters_trims_dedups_and_orders_the_price_range() {
        let f = Filters {
            brands: vec![" Nordhavn ".into(), "Nordhavn".into(), "".into()],
            min_price: Some(5000),
            max_price: Some(1000),
            in_stock: true,
            attributes: vec![
                ("color".into(), "Red".into()),
                ("color".into(), " Red".into()),
            ],
        }
        .normalized()
        .unwrap();
        assert_eq!(f.brands, vec!["Nordhavn".to_owned()]);
        assert_eq!((f.min_price, f.max_price), (Some(1000), Some(5000)));
        assert_eq!(f.attributes.len(), 1);
        let too_many = Filters {
            brands: (0..21).map(|i| format!("b{i}")).collect(),
            ..Filters::default()
        };
        assert!(too_many.normalized().is_err());
    }

    #[test]
    fn natural_order_for_sizes() {
        let mut v = vec!["EU 10", "EU 9", "EU 37"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, vec!["EU 9", "EU 10", "EU 37"]);
        assert_eq!(natural_cmp("Blue", "green"), std::cmp::Ordering::Less);
    }

    #[test]
    fn sort_keys_round_trip() {
        for s in Sort::ALL {
            assert_eq!(Sort::from_key(s.key()), s);
        }
        assert_eq!(Sort::from_key("nonsense"), Sort::Relevance);
    }
}
