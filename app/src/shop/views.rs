//! Server-side conversion from catalog results to what the pages render, and the parsing
//! of listing URLs.

use catalog::{Filters, Listing, Sort};
use shop_core::{Currency, Money};

use super::listing::{ActiveFilter, FacetGroup, FacetOption, ListingView, PageLink};
use super::{CardView, StockView};
use crate::components::humanize;
use crate::error::AppError;
use crate::url::{parse_query, urlencode};

pub(crate) fn stock(available: i64, low_threshold: i64) -> StockView {
    match available {
        n if n <= 0 => StockView::OutOfStock,
        n if n <= low_threshold => StockView::Low(n),
        _ => StockView::InStock,
    }
}

/// Cards say "only N left" at this level; product pages use each variant's own threshold.
const CARD_LOW_STOCK: i64 = 5;

pub(crate) fn card(p: catalog::ProductCard) -> CardView {
    CardView {
        quick_add: p
            .sole_variant
            .filter(|_| p.available > 0)
            .map(|v| v.as_str().to_owned()),
        from: p.max_price.minor() > p.price.minor(),
        price: p.price.to_string(),
        compare_at: p.compare_at.map(|c| c.to_string()),
        stock: stock(p.available, CARD_LOW_STOCK),
        image: p.image.as_ref().map(crate::image::from_catalog),
        name: p.name,
        slug: p.slug,
        brand: p.brand,
    }
}

/// A listing request as read from the URL.
pub(crate) struct ListingParams {
    pub pairs: Vec<(String, String)>,
    pub filters: Filters,
    pub sort: Sort,
    pub page: i64,
    pub min: String,
    pub max: String,
    /// The shop's currency (`SHOP_CURRENCY`), which the price filters are in.
    pub currency: Currency,
}

/// Reads filters, sort and page from a query string. Prices are decimals in the shop's
/// `currency`; a malformed one is an error on its field.
pub(crate) fn listing_params(query: &str, currency: Currency) -> Result<ListingParams, AppError> {
    let pairs = parse_query(query);
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let all = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let price = |field: &'static str, raw: &str| -> Result<Option<i64>, AppError> {
        if raw.is_empty() {
            return Ok(None);
        }
        Money::parse_decimal(raw, currency)
            .ok()
            .filter(|m| !m.is_negative() && m.minor() <= 100_000_000)
            .map(|m| Some(m.minor()))
            .ok_or_else(|| AppError::field(field, "Enter a price like 25 or 12.50"))
    };
    let min = get("min");
    let max = get("max");
    let page = match get("page").as_str() {
        "" => 1,
        p => p
            .parse::<i64>()
            .ok()
            .filter(|p| (1..=catalog::listing::MAX_PAGE).contains(p))
            .ok_or(AppError::NotFound)?,
    };
    let filters = Filters {
        brands: all("brand"),
        min_price: price("min", &min)?,
        max_price: price("max", &max)?,
        in_stock: get("stock") == "1",
        attributes: all("attr")
            .into_iter()
            .filter_map(|a| a.split_once(':').map(|(n, v)| (n.to_owned(), v.to_owned())))
            .collect(),
    };
    Ok(ListingParams {
        sort: Sort::from_key(&get("sort")),
        pairs,
        filters,
        page,
        min,
        max,
        currency,
    })
}

fn encode_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn href(path: &str, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", encode_pairs(pairs))
    }
}

/// Names that carry filters (as opposed to `q`, `sort`, `page`).
const FILTER_KEYS: [&str; 5] = ["brand", "attr", "min", "max", "stock"];

/// Builds the view of a listing at `path`; `keep` are non-filter parameters to carry along.
pub(crate) fn listing_view(
    path: &str,
    keep: Vec<(String, String)>,
    params: &ListingParams,
    default_sort: Sort,
    listing: Listing,
) -> ListingView {
    let searching = keep.iter().any(|(k, _)| k == "q");
    // The canonical parameters, in a stable order: kept ones, filters, sort, page.
    let filter_pairs: Vec<(String, String)> = params
        .pairs
        .iter()
        .filter(|(k, v)| FILTER_KEYS.contains(&k.as_str()) && !v.trim().is_empty())
        .cloned()
        .collect();
    let sort_pair =
        (params.sort != default_sort).then(|| ("sort".to_owned(), params.sort.key().to_owned()));
    let base: Vec<(String, String)> = keep
        .iter()
        .cloned()
        .chain(filter_pairs.iter().cloned())
        .chain(sort_pair.clone())
        .collect();
    let page_href = |page: i64| {
        let mut pairs = base.clone();
        if page > 1 {
            pairs.push(("page".to_owned(), page.to_string()));
        }
        href(path, &pairs)
    };
    let without = |key: &str, value: &str| {
        let pairs: Vec<(String, String)> = base
            .iter()
            .filter(|(k, v)| !(k == key && v == value))
            .cloned()
            .collect();
        href(path, &pairs)
    };
    let mut active = Vec::new();
    for (k, v) in &filter_pairs {
        let label = match k.as_str() {
            "brand" => v.clone(),
            "attr" => match v.split_once(':') {
                Some((n, val)) => format!("{}: {val}", humanize(n)),
                None => continue,
            },
            "min" => format!("From {}", money_label(v, params.currency)),
            "max" => format!("Up to {}", money_label(v, params.currency)),
            "stock" => "In stock".to_owned(),
            _ => continue,
        };
        active.push(ActiveFilter {
            label,
            remove_href: without(k, v),
        });
    }
    let clear_href = (!active.is_empty()).then(|| {
        let pairs: Vec<(String, String)> = keep.iter().cloned().chain(sort_pair.clone()).collect();
        href(path, &pairs)
    });
    let pages = listing.pages;
    let page = listing.page;
    let window = 2;
    let mut page_links = Vec::new();
    for p in 1..=pages {
        if p == 1 || p == pages || (p - page).abs() <= window {
            page_links.push(PageLink {
                page: p,
                href: page_href(p),
                current: p == page,
            });
        }
    }
    let facets = listing.facets;
    ListingView {
        action: path.to_owned(),
        keep,
        items: listing.items.into_iter().map(card).collect(),
        total: listing.total,
        page,
        pages,
        sort: params.sort.key().to_owned(),
        sorts: Sort::ALL
            .iter()
            .filter(|s| **s != Sort::Relevance || default_sort == Sort::Relevance)
            .map(|s| {
                // Without a query there is nothing to be relevant to: a department's default
                // order (featured and popular first) is the shop's recommendation.
                let label = match s {
                    Sort::Relevance if !searching => "Recommended",
                    Sort::Relevance => "Best match",
                    other => other.label(),
                };
                (s.key().to_owned(), label.to_owned())
            })
            .collect(),
        brands: facets
            .brands
            .into_iter()
            .map(|b| FacetOption {
                label: b.value.clone(),
                value: b.value,
                count: b.count,
                selected: b.selected,
            })
            .collect(),
        attributes: facets
            .attributes
            .into_iter()
            .map(|g| FacetGroup {
                label: humanize(&g.name),
                options: g
                    .values
                    .into_iter()
                    .map(|v| FacetOption {
                        value: format!("{}:{}", g.name, v.value),
                        label: v.value,
                        count: v.count,
                        selected: v.selected,
                    })
                    .collect(),
            })
            .collect(),
        in_stock: params.filters.in_stock,
        in_stock_count: facets.in_stock,
        min: params.min.clone(),
        max: params.max.clone(),
        price_hint: facets
            .price_range
            .map(|(lo, hi)| (whole_units(lo, false), whole_units(hi, true))),
        currency_symbol: params
            .currency
            .symbol()
            .unwrap_or(params.currency.code())
            .to_owned(),
        active,
        clear_href,
        filter_params: filter_pairs,
        prev_href: (page > 1).then(|| page_href(page - 1)),
        next_href: (page < pages).then(|| page_href(page + 1)),
        page_links,
    }
}

fn money_label(raw: &str, currency: Currency) -> String {
    Money::parse_decimal(raw, currency)
        .map(|m| m.to_string())
        .unwrap_or_else(|_| raw.to_owned())
}

/// A price rounded to whole units (down for a lower bound, up for an upper), for hints.
fn whole_units(m: Money, up: bool) -> String {
    let scale = 10_i64.pow(m.currency().exponent());
    let whole = if up {
        (m.minor() + scale - 1) / scale
    } else {
        m.minor() / scale
    };
    whole.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_listing_params() {
        let p = listing_params(
            "brand=A&brand=B&min=10&max=25.5&stock=1&attr=color:Red&sort=price-asc&page=3",
            Currency::Eur,
        )
        .unwrap();
        assert_eq!(p.filters.brands, vec!["A", "B"]);
        assert_eq!(p.filters.min_price, Some(1000));
        assert_eq!(p.filters.max_price, Some(2550));
        assert!(p.filters.in_stock);
        assert_eq!(
            p.filters.attributes,
            vec![("color".to_owned(), "Red".to_owned())]
        );
        assert_eq!(p.sort, Sort::PriceAsc);
        assert_eq!(p.page, 3);
        assert!(matches!(
            listing_params("min=abc", Currency::Eur),
            Err(AppError::Invalid { .. })
        ));
        assert!(matches!(
            listing_params("page=0", Currency::Eur),
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            listing_params("page=x", Currency::Eur),
            Err(AppError::NotFound)
        ));
        // Prices are read in the shop's currency: yen have no minor unit.
        let yen = listing_params("min=1500", Currency::Jpy).unwrap();
        assert_eq!(yen.filters.min_price, Some(1500));
        assert!(matches!(
            listing_params("min=15.50", Currency::Jpy),
            Err(AppError::Invalid { .. })
        ));
    }
}
