//! The server side of search and type-ahead: results with their filters, and suggestions.

use super::{SearchPage, Suggestion, TypeAhead};
use crate::error::AppError;
use crate::shop::views::{listing_params, listing_view};
use crate::ssr::server_context;
use crate::url::{parse_query, urlencode};

pub(super) async fn search_products(query: String) -> Result<SearchPage, AppError> {
    let ctx = server_context()?;
    let q = parse_query(&query)
        .into_iter()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| {
            v.trim()
                .chars()
                .take(catalog::search::MAX_QUERY_CHARS)
                .collect::<String>()
        })
        .unwrap_or_default();
    let params = listing_params(&query, ctx.shop.currency)?;
    let tree = ctx.catalog.tree().await?;
    let departments = tree
        .roots()
        .into_iter()
        .filter(|c| c.product_count > 0)
        .map(|c| Suggestion {
            label: c.name.clone(),
            href: format!("/c/{}", c.slug),
        })
        .collect();
    let Some(terms) = catalog::SearchTerms::parse(&q) else {
        return Ok(SearchPage {
            query: q,
            listing: None,
            used_prefix: false,
            fewer_words: Vec::new(),
            departments,
        });
    };
    let result = ctx
        .catalog
        .search(&terms, params.filters.clone(), params.sort, params.page)
        .await?;
    if params.page > 1 && params.page > result.listing.pages {
        return Err(AppError::NotFound);
    }
    if params.page == 1 {
        // Counted as a search (a copy of this page served later from the page cache counts
        // again).
        crate::ssr::note_event(&analytics::Noted::search(
            &terms.normalized(),
            result.listing.total,
        ));
    }
    let fewer_words = result
        .suggestions
        .into_iter()
        .map(|(words, count)| Suggestion {
            href: format!("/search?q={}", urlencode(&words)),
            label: format!("{words} ({count})"),
        })
        .collect();
    let keep = vec![("q".to_owned(), q.clone())];
    Ok(SearchPage {
        query: q,
        listing: Some(listing_view(
            "/search",
            keep,
            &params,
            catalog::Sort::Relevance,
            result.listing,
        )),
        used_prefix: result.used_prefix,
        fewer_words,
        departments,
    })
}

pub(super) async fn suggest(q: String) -> Result<Vec<TypeAhead>, AppError> {
    let ctx = server_context()?;
    if q.chars().count() < 2 {
        return Ok(Vec::new());
    }
    Ok(ctx
        .catalog
        .suggest(&q)
        .await?
        .into_iter()
        .map(|s| TypeAhead {
            href: format!("/p/{}", s.slug),
            name: s.name,
        })
        .collect())
}
