//! Searching the catalog and the search log: every first-page search is noted with its
//! result count and written in batches, never one write per request.

use catalog::{Filters, SearchTerms, Sort};
use shop_core::Clock;
use shop_testkit::catalog::{catalog, import};
use shop_testkit::{count, fresh_db};

const CATALOG: &str = r#"{"sku":"PAN-1","name":"Cast Iron Pan","description":"A heavy pan.","category":"Home & Kitchen > Cookware > Pans","price_minor":3000,"currency":"EUR","stock":5,"brand":"Nordhavn","attributes":{}}
{"sku":"PAN-2","name":"Steel Pan","description":"A light pan.","category":"Home & Kitchen > Cookware > Pans","price_minor":2500,"currency":"EUR","stock":2,"brand":"Copperleaf","attributes":{}}
{"sku":"KET-1","name":"Whistling Kettle","description":"A stovetop kettle.","category":"Home & Kitchen > Kitchen Tools > Kettles","price_minor":4500,"currency":"EUR","stock":7,"brand":"Copperleaf","attributes":{}}
"#;

fn terms(text: &str) -> SearchTerms {
    SearchTerms::parse(text).expect("search words")
}

#[tokio::test]
async fn first_page_searches_are_logged_with_their_counts_and_written_in_one_flush() {
    let (db, _scratch) = fresh_db().await;
    let clock = Clock::system();
    import(&db, &clock, CATALOG).await;
    let catalog = catalog(&db, &clock);

    let pans = catalog
        .search(&terms("Pan"), Filters::default(), Sort::default(), 1)
        .await
        .unwrap();
    assert_eq!(pans.listing.total, 2);
    let none = catalog
        .search(&terms("zeppelin"), Filters::default(), Sort::default(), 1)
        .await
        .unwrap();
    assert_eq!(none.listing.total, 0);
    // A later page is the same search read further: not logged again.
    catalog
        .search(&terms("pan"), Filters::default(), Sort::default(), 2)
        .await
        .unwrap();
    // Nothing is written until the log is flushed.
    assert_eq!(count(&db, "SELECT COUNT(*) FROM search_queries").await, 0);

    // 250 more searches go in the same flush (the insert is chunked, not one per search).
    for _ in 0..250 {
        catalog
            .search(&terms("kettle"), Filters::default(), Sort::default(), 1)
            .await
            .unwrap();
    }
    assert_eq!(catalog.flush_search_log().await.unwrap(), 252);
    assert_eq!(catalog.flush_search_log().await.unwrap(), 0, "written once");

    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT normalized, result_count FROM search_queries
         WHERE normalized <> 'kettle' ORDER BY created_at, id",
    )
    .fetch_all(db.reader())
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![("pan".to_owned(), 2), ("zeppelin".to_owned(), 0)]
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM search_queries WHERE normalized = 'kettle' AND result_count = 1"
        )
        .await,
        250
    );
}
