//! Full-text search: parsing what the shopper typed, the backend-specific match (FTS5 on
//! SQLite, tsvector on PostgreSQL) and type-ahead suggestions. Searches are counted by the analytics
//! service, as the search page notes them.
//!
//! Ranking: an exact name match comes first, then the engine's relevance with the name and
//! SKU weighted above the brand, and the brand above the description.

use shop_core::{Backend, Db};

use crate::sql::Sql;

/// Longest query kept (characters); the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words used from a query.
pub const MAX_WORDS: usize = 10;

/// A parsed search.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SearchTerms {
    /// What the shopper typed (trimmed and shortened).
    pub raw: String,
    /// Lower-case words, letters and digits only.
    pub words: Vec<String>,
}

impl SearchTerms {
    /// Parses a query; `None` when it has no searchable word.
    pub fn parse(input: &str) -> Option<SearchTerms> {
        let raw: String = input.trim().chars().take(MAX_QUERY_CHARS).collect();
        let words: Vec<String> = raw
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| w.chars().take(40).collect::<String>().to_lowercase())
            .take(MAX_WORDS)
            .collect();
        (!words.is_empty()).then_some(SearchTerms { raw, words })
    }

    /// The words joined by spaces: how the analytics group searches.
    pub fn normalized(&self) -> String {
        self.words.join(" ")
    }

    /// The same search without word `index` (for "try fewer words" suggestions).
    pub fn without(&self, index: usize) -> SearchTerms {
        let words: Vec<String> = self
            .words
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != index)
            .map(|(_, w)| w.clone())
            .collect();
        SearchTerms {
            raw: words.join(" "),
            words,
        }
    }
}

/// Whether a search's matches carry their rank.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Ranking {
    /// `rank` (lower is better) and `exact` (0 when the name equals the query): for ordering.
    Ranked,
    /// The product ids alone: for counts and facets, which never order by rank and would
    /// otherwise score every match (bm25 over thousands of rows) for nothing.
    Unranked,
}

/// `WITH s AS (SELECT product_id[, rank, exact] ...)`: the products matching `terms`. With
/// `prefix`, the last word also matches as the start of a word (type-ahead).
pub(crate) fn matches_cte(
    backend: Backend,
    terms: &SearchTerms,
    prefix: bool,
    ranking: Ranking,
) -> Sql {
    let phrase = terms.words.join(" ");
    // Materialized: the match runs once, not once per product row joined to it.
    let mut sql = Sql::new("WITH s AS MATERIALIZED (");
    match backend {
        Backend::Sqlite => {
            // Every word quoted (so nothing in it is FTS syntax), all required.
            let mut expr = terms
                .words
                .iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(" ");
            if prefix {
                expr.push('*');
            }
            sql.push("SELECT m.product_id");
            if ranking == Ranking::Ranked {
                sql.push(
                    ", bm25(products_fts, 10.0, 4.0, 1.0, 10.0) AS rank,
                        CASE WHEN lower(products_fts.name) = ",
                )
                .bind(phrase.as_str())
                .push(" THEN 0 ELSE 1 END AS exact");
            }
            sql.push(
                " FROM products_fts JOIN product_search_ids m ON m.search_id = products_fts.rowid
                 WHERE products_fts MATCH ",
            )
            .bind(expr);
        }
        Backend::Postgres => {
            // Words are letters and digits only, so joining them with & is a valid tsquery.
            let mut expr = terms.words.join(" & ");
            if prefix {
                expr.push_str(":*");
            }
            sql.push("SELECT p.id AS product_id");
            if ranking == Ranking::Ranked {
                sql.push(", -ts_rank_cd(p.search_vector, q.q) AS rank, CASE WHEN lower(p.name) = ")
                    .bind(phrase.as_str())
                    .push(" THEN 0 ELSE 1 END AS exact");
            }
            sql.push(" FROM products p, to_tsquery('english', ")
                .bind(expr)
                .push(") AS q(q) WHERE p.search_vector @@ q.q");
        }
    }
    sql.push(") ");
    sql
}

/// A type-ahead suggestion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    pub name: String,
    pub slug: String,
}

/// A suggested product's name and slug as the database holds them.
#[derive(sqlx::FromRow)]
struct SuggestionRow {
    name: String,
    slug: String,
}

/// Up to `limit` active products whose words start with what was typed, best first.
pub async fn suggest(db: &Db, input: &str, limit: i64) -> Result<Vec<Suggestion>, sqlx::Error> {
    let Some(terms) = SearchTerms::parse(input) else {
        return Ok(Vec::new());
    };
    let mut sql = matches_cte(db.backend(), &terms, true, Ranking::Ranked);
    sql.push(
        "SELECT p.name, p.slug FROM products p JOIN s ON s.product_id = p.id
         WHERE p.status = 'active' ORDER BY s.exact, s.rank, p.id LIMIT ",
    )
    .bind(limit.clamp(1, 20));
    let rows: Vec<SuggestionRow> = sqlx::query_as_with(sql.text(), sql.arguments())
        .fetch_all(db.reader())
        .await?;
    Ok(rows
        .into_iter()
        .map(|SuggestionRow { name, slug }| Suggestion { name, slug })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_words_and_drops_syntax() {
        let t = SearchTerms::parse("  Cast-Iron \"pan\" OR* ").unwrap();
        assert_eq!(t.words, vec!["cast", "iron", "pan", "or"]);
        assert_eq!(t.normalized(), "cast iron pan or");
        assert!(SearchTerms::parse(" -*\" ").is_none());
        assert_eq!(SearchTerms::parse("Crêpe").unwrap().words, vec!["crêpe"]);
        assert_eq!(t.without(1).words, vec!["cast", "pan", "or"]);
    }

    #[test]
    fn sqlite_match_quotes_every_word() {
        let t = SearchTerms::parse("cast iron").unwrap();
        let sql = matches_cte(Backend::Sqlite, &t, true, Ranking::Ranked);
        assert!(sql.text().contains("MATCH $2"), "{}", sql.text());
        let sql = matches_cte(Backend::Sqlite, &t, true, Ranking::Unranked);
        assert!(sql.text().contains("MATCH $1"), "{}", sql.text());
        assert!(!sql.text().contains("bm25"), "{}", sql.text());
    }
}
