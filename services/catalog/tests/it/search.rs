//! Searching the catalog.

use catalog::{Filters, SearchTerms, Sort};
use shop_core::Clock;
use shop_testkit::catalog::{catalog, import};
use shop_testkit::fresh_db;

const CATALOG: &str = r#"{"sku":"PAN-1","name":"Cast Iron Pan","description":"A heavy pan.","category":"Home & Kitchen > Cookware > Pans","price_minor":3000,"currency":"EUR","stock":5,"brand":"Nordhavn","attributes":{}}
{"sku":"PAN-2","name":"Steel Pan","description":"A light pan.","category":"Home & Kitchen > Cookware > Pans","price_minor":2500,"currency":"EUR","stock":2,"brand":"Copperleaf","attributes":{}}
{"sku":"KET-1","name":"Whistling Kettle","description":"A stovetop kettle.","category":"Home & Kitchen > Kitchen Tools > Kettles","price_minor":4500,"currency":"EUR","stock":7,"brand":"Copperleaf","attributes":{}}
"#;

fn terms(text: &str) -> SearchTerms {
    SearchTerms::parse(text).expect("search words")
}

#[tokio::test]
async fn a_search_counts_every_match_and_nothing_when_nothing_matches() {
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
    assert!(none.listing.items.is_empty());
    // A page past the last is empty, with the same total.
    let later = catalog
        .search(&terms("pan"), Filters::default(), Sort::default(), 2)
        .await
        .unwrap();
    assert_eq!(later.listing.total, 2);
    assert!(later.listing.items.is_empty());
}
