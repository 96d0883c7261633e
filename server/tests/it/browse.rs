//! The shop's catalog through the real router: category listings with filters, facets, sorts
//! and pagination, search ranking and logging, product pages, the sitemap, and imports that
//! are all-or-nothing.

use serde_json::Value;

use crate::common::{TestApp, TestOptions};

/// A small catalog: three pans (two Nordhavn), a kettle, and a T-shirt with sizes.
const CATALOG: &str = r#"{"sku":"PAN-1","name":"Cast Iron Pan","description":"A **seasoned** pan.","category":"Home & Kitchen > Cookware > Pans","price_minor":3000,"currency":"EUR","stock":5,"brand":"Nordhavn","attributes":{"material":"Cast Iron","color":"Black"},"created_at":"2024-01-01"}
{"sku":"PAN-2","name":"Nordhavn Enamelled Cast Iron Frying Pan","description":"Enamelled cast iron for everyday frying.","category":"Home & Kitchen > Cookware > Pans","price_minor":5000,"currency":"EUR","stock":0,"brand":"Nordhavn","attributes":{"material":"Cast Iron","color":"Red"},"created_at":"2024-02-01"}
{"sku":"PAN-3","name":"Copperleaf Steel Pan","description":"Carbon steel that heats fast; as good as cast iron for searing.","category":"Home & Kitchen > Cookware > Pans","price_minor":2000,"currency":"EUR","stock":9,"brand":"Copperleaf","attributes":{"material":"Carbon Steel","color":"Black"},"created_at":"2024-03-01"}
{"sku":"KET-1","name":"Copperleaf Kettle","description":"A stovetop kettle.","category":"Home & Kitchen > Kitchen Tools > Kettles","price_minor":4000,"currency":"EUR","stock":2,"brand":"Copperleaf","attributes":{"color":"Red"},"created_at":"2024-04-01"}
{"sku":"TEE-S","name":"Fernhill Tee","slug":"fernhill-tee","description":"Organic cotton.","category":"Clothing & Shoes > Clothing > T-Shirts","price_minor":1500,"currency":"EUR","stock":0,"brand":"Fernhill","attributes":{"color":"Sage"},"options":{"size":"S"}}
{"sku":"TEE-M","name":"Fernhill Tee","slug":"fernhill-tee","description":"Organic cotton.","category":"Clothing & Shoes > Clothing > T-Shirts","price_minor":1700,"currency":"EUR","stock":3,"brand":"Fernhill","attributes":{"color":"Sage"},"options":{"size":"M"}}
"#;

async fn app_with(catalog: &str) -> TestApp {
    TestApp::with_catalog(TestOptions::default(), catalog).await
}

async fn json(res: reqwest::Response) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}"))
}

async fn category(app: &TestApp, slug: &str, query: &str) -> Value {
    let res = app
        .call(
            &app.browser(),
            "catalog/category",
            &[("slug", slug), ("query", query)],
        )
        .await;
    assert_eq!(res.status(), 200, "category {slug}?{query}");
    json(res).await
}

async fn search(app: &TestApp, query: &str) -> Value {
    let res = app
        .call(&app.browser(), "catalog/search", &[("query", query)])
        .await;
    assert_eq!(res.status(), 200, "search {query}");
    json(res).await
}

fn slugs(listing: &Value) -> Vec<String> {
    listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["slug"].as_str().unwrap().to_owned())
        .collect()
}

fn facet(listing: &Value, group: &str, value: &str) -> Option<i64> {
    let options = if group == "brand" {
        listing["brands"].as_array().unwrap().clone()
    } else {
        listing["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["label"] == group)?["options"]
            .as_array()
            .unwrap()
            .clone()
    };
    options
        .iter()
        .find(|o| o["label"] == value)
        .map(|o| o["count"].as_i64().unwrap())
}

#[tokio::test]
async fn a_department_lists_everything_below_it_with_counts_that_match_the_filters() {
    let app = app_with(CATALOG).await;
    let page = category(&app, "home-and-kitchen", "").await;
    let listing = &page["listing"];
    assert_eq!(listing["total"], 4);
    // In stock first, then newest.
    assert_eq!(
        slugs(listing),
        vec![
            "copperleaf-kettle",
            "copperleaf-steel-pan",
            "cast-iron-pan",
            "nordhavn-enamelled-cast-iron-frying-pan"
        ]
    );
    assert_eq!(facet(listing, "brand", "Nordhavn"), Some(2));
    assert_eq!(facet(listing, "brand", "Copperleaf"), Some(2));
    assert_eq!(facet(listing, "Color", "Red"), Some(2));
    assert_eq!(listing["in_stock_count"], 3);
    let children: Vec<&str> = page["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(children, vec!["Cookware", "Kitchen Tools"]);

    // Brand filter: the brand facet still counts every brand (disjunctive), the others narrow.
    let filtered = category(&app, "home-and-kitchen", "brand=Nordhavn").await;
    let listing = &filtered["listing"];
    assert_eq!(listing["total"], 2);
    assert_eq!(facet(listing, "brand", "Copperleaf"), Some(2));
    assert_eq!(facet(listing, "Color", "Red"), Some(1));
    assert_eq!(facet(listing, "Color", "Black"), Some(1));
    assert_eq!(listing["in_stock_count"], 1);

    // Every filter at once agrees with the data.
    let narrow = category(
        &app,
        "home-and-kitchen",
        "brand=Nordhavn&brand=Copperleaf&attr=color:Black&stock=1&min=25&max=35",
    )
    .await;
    assert_eq!(slugs(&narrow["listing"]), vec!["cast-iron-pan"]);
    let labels: Vec<&str> = narrow["listing"]["active"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        vec![
            "Nordhavn",
            "Copperleaf",
            "Color: Black",
            "In stock",
            "From €25.00",
            "Up to €35.00"
        ]
    );
}

/// An unfiltered category page counts attribute facets from the facet rows' own copy of
/// their product's category and status; a filter (here `min=0`, which keeps every product)
/// takes the general path through the listed products. Both must agree after a product is
/// archived or moved (by any writer, so straight SQL here) and with secondary placements,
/// which count once per product.
#[tokio::test]
async fn unfiltered_category_facets_follow_status_moves_and_secondary_placements() {
    let options = TestOptions {
        env: vec![("CATALOG_CACHE_SECS", "0".into())],
        ..TestOptions::default()
    };
    let app = TestApp::with_catalog(options, CATALOG).await;
    let sql = |q: &'static str| {
        let db = app.db.clone();
        async move { sqlx::query(q).execute(db.reader()).await.unwrap() }
    };
    let check = |expect: Vec<(&'static str, &'static str, Option<i64>)>| {
        let app = &app;
        async move {
            let fast = category(app, "home-and-kitchen", "").await;
            let general = category(app, "home-and-kitchen", "min=0").await;
            assert_eq!(
                fast["listing"]["attributes"], general["listing"]["attributes"],
                "both ways of counting agree"
            );
            for (group, value, count) in expect {
                assert_eq!(
                    facet(&fast["listing"], group, value),
                    count,
                    "{group}: {value}"
                );
            }
        }
    };
    check(vec![
        ("Color", "Black", Some(2)),
        ("Color", "Red", Some(2)),
        ("Material", "Cast Iron", Some(2)),
        ("Material", "Carbon Steel", Some(1)),
    ])
    .await;

    sql("UPDATE products SET status = 'archived' WHERE slug = 'nordhavn-enamelled-cast-iron-frying-pan'").await;
    check(vec![
        ("Color", "Red", Some(1)),
        ("Material", "Cast Iron", Some(1)),
    ])
    .await;

    // The kettle leaves the department: red is left on no product, so the colour group
    // (black alone) no longer narrows anything and is not offered.
    sql("UPDATE products SET category_id = (SELECT id FROM categories WHERE slug = 't-shirts') WHERE slug = 'copperleaf-kettle'").await;
    check(vec![("Color", "Black", None), ("Color", "Red", None)]).await;

    // Placed back as a secondary category it counts again; a pan placed in a second
    // category of the same department, and the tee placed in two of them, count once.
    sql("INSERT INTO product_categories (product_id, category_id)
         SELECT p.id, c.id FROM products p, categories c
         WHERE (p.slug = 'copperleaf-kettle' AND c.slug = 'kettles')
            OR (p.slug = 'cast-iron-pan' AND c.slug = 'kettles')
            OR (p.slug = 'fernhill-tee' AND c.slug IN ('kettles', 'pans'))")
    .await;
    check(vec![
        ("Color", "Black", Some(2)),
        ("Color", "Red", Some(1)),
        ("Color", "Sage", Some(1)),
        ("Size", "S", Some(1)),
        ("Size", "M", Some(1)),
    ])
    .await;
    assert_eq!(
        category(&app, "home-and-kitchen", "").await["listing"]["total"],
        4
    );
}

/// A shop priced in dollars reads and shows its price filters in dollars.
#[tokio::test]
async fn price_filters_are_in_the_shops_currency() {
    let options = TestOptions {
        env: vec![("SHOP_CURRENCY", "USD".into())],
        ..TestOptions::default()
    };
    let app = TestApp::with_catalog(options, &CATALOG.replace("\"EUR\"", "\"USD\"")).await;
    let pans = category(&app, "pans", "min=25&max=35.50").await;
    let listing = &pans["listing"];
    assert_eq!(slugs(listing), vec!["cast-iron-pan"]);
    assert_eq!(listing["currency_symbol"], "$");
    let labels: Vec<&str> = listing["active"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, vec!["From $25.00", "Up to $35.50"]);
}

#[tokio::test]
async fn sorting_and_pagination_are_stable() {
    // 45 pans with a handful of equal prices: pages of 20 must neither repeat nor skip one.
    let mut lines = String::new();
    for i in 0..45 {
        lines.push_str(&format!(
            r#"{{"sku":"P-{i:02}","name":"Pan number {i:02}","category":"Home > Pans","price_minor":{},"currency":"EUR","stock":{},"brand":"B{}"}}"#,
            1000 + (i % 5) * 100,
            i % 3,
            i % 4
        ));
        lines.push('\n');
    }
    let app = app_with(&lines).await;
    for sort in ["relevance", "newest", "price-asc", "price-desc", "popular"] {
        let mut seen = Vec::new();
        for page in 1..=3 {
            let p = category(&app, "pans", &format!("sort={sort}&page={page}")).await;
            assert_eq!(p["listing"]["pages"], 3);
            seen.extend(slugs(&p["listing"]));
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (45, 45), "sort {sort}");
    }
    let cheap_first = category(&app, "pans", "sort=price-asc").await;
    assert_eq!(cheap_first["listing"]["items"][0]["price"], "€10.00");
    let dear_first = category(&app, "pans", "sort=price-desc").await;
    assert_eq!(dear_first["listing"]["items"][0]["price"], "€14.00");
    // Page links carry the sort; a page past the end is a 404.
    let page2 = cheap_first["listing"]["next_href"].as_str().unwrap();
    assert_eq!(page2, "/c/pans?sort=price-asc&page=2");
    let res = app.get("/c/pans?page=4").await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn bad_listing_input_gets_a_clear_answer() {
    let app = app_with(CATALOG).await;
    let res = app
        .call(
            &app.browser(),
            "catalog/category",
            &[("slug", "pans"), ("query", "min=ten")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        json(res)
            .await
            .to_string()
            .contains("Enter a price like 25 or 12.50")
    );
    assert_eq!(app.get("/c/pans?min=ten").await.status(), 422);
    assert_eq!(app.get("/c/pans?page=-1").await.status(), 404);
    assert_eq!(app.get("/c/no-such-category").await.status(), 404);
    let too_many: String = (0..21).map(|i| format!("brand=b{i}&")).collect();
    let res = app
        .call(
            &app.browser(),
            "catalog/category",
            &[("slug", "pans"), ("query", &too_many)],
        )
        .await;
    assert_eq!(res.status(), 422);
    // A reversed price range is read the right way round.
    let p = category(&app, "pans", "min=40&max=25").await;
    assert_eq!(slugs(&p["listing"]), vec!["cast-iron-pan"]);
}

#[tokio::test]
async fn search_puts_the_exact_name_first_and_is_logged() {
    let app = app_with(CATALOG).await;
    let result = search(&app, "q=cast+iron+pan").await;
    let found = slugs(&result["listing"]);
    assert_eq!(found[0], "cast-iron-pan", "{found:?}");
    assert!(found.contains(&"nordhavn-enamelled-cast-iron-frying-pan".to_owned()));
    // The steel pan mentions cast iron only in its description: it ranks below the names.
    assert_eq!(found.last().unwrap(), "copperleaf-steel-pan", "{found:?}");

    // SKU, brand and stemming.
    assert_eq!(
        slugs(&search(&app, "q=KET-1").await["listing"]),
        vec!["copperleaf-kettle"]
    );
    assert_eq!(search(&app, "q=copperleaf").await["listing"]["total"], 2);
    assert_eq!(search(&app, "q=pans+kettles").await["listing"]["total"], 0);
    assert_eq!(search(&app, "q=kettles").await["listing"]["total"], 1);

    // Typing: the last word as a prefix.
    let typing = search(&app, "q=kett").await;
    assert_eq!(typing["used_prefix"], true);
    assert_eq!(slugs(&typing["listing"]), vec!["copperleaf-kettle"]);

    // Nothing found: shorter searches that work are suggested.
    let none = search(&app, "q=cast+iron+zeppelin").await;
    assert_eq!(none["listing"]["total"], 0);
    let suggestions: Vec<&str> = none["fewer_words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].as_str().unwrap())
        .collect();
    assert_eq!(suggestions, vec!["cast iron (3)"]);
    let page = app.get("/search?q=cast+iron+zeppelin").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Nothing matched"));

    // Filters apply to search results too.
    let filtered = search(&app, "q=pan&brand=Copperleaf").await;
    assert_eq!(slugs(&filtered["listing"]), vec!["copperleaf-steel-pan"]);

    // Every first-page search is counted with its result count.
    let logged: Vec<(String, i64)> = wait_for_searches(&app, 9).await;
    assert!(
        logged.contains(&("cast iron pan".to_owned(), 3)),
        "{logged:?}"
    );
    assert!(
        logged.contains(&("cast iron zeppelin".to_owned(), 0)),
        "{logged:?}"
    );
}

/// The server writes analytics events every second; waits for `n` searches.
async fn wait_for_searches(app: &TestApp, n: usize) -> Vec<(String, i64)> {
    for _ in 0..50 {
        let rows: Vec<(String, i64)> = sqlx::query_as::<_, (String, i64, i64)>(
            "SELECT term, results, n FROM analytics_events WHERE kind = 'search' ORDER BY id",
        )
        .fetch_all(app.db.reader())
        .await
        .unwrap()
        .into_iter()
        .flat_map(|(term, results, n)| std::iter::repeat_n((term, results), n as usize))
        .collect();
        if rows.len() >= n {
            return rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} searches were counted");
}

#[tokio::test]
async fn type_ahead_suggests_products_by_prefix() {
    let app = app_with(CATALOG).await;
    let res = app
        .call(&app.browser(), "catalog/suggest", &[("q", "nordhavn enam")])
        .await;
    assert_eq!(res.status(), 200);
    let body = json(res).await;
    assert_eq!(
        body[0]["href"],
        "/p/nordhavn-enamelled-cast-iron-frying-pan"
    );
    let res = app
        .call(&app.browser(), "catalog/suggest", &[("q", "\"*) OR (")])
        .await;
    assert_eq!(res.status(), 200, "FTS syntax in a query is just text");
}

#[tokio::test]
async fn a_product_page_shows_variants_stock_and_structured_data() {
    let app = app_with(CATALOG).await;
    let html = app.get_with(&app.browser(), "/p/fernhill-tee").await;
    // The size in stock is chosen by default.
    assert!(html.contains(r#"data-testid="sku">TEE-M<"#), "{html}");
    assert!(html.contains("Only 3 left"));
    assert!(
        html.contains(r#"/p/fernhill-tee" rel="canonical">"#),
        "{html}"
    );
    assert!(html.contains(r#"property="og:type" content="product""#));
    assert!(html.contains(r#""@type":"Product""#));
    assert!(html.contains(r#"https://schema.org/OutOfStock"#));
    let small = app
        .get_with(&app.browser(), "/p/fernhill-tee?variant=TEE-S")
        .await;
    assert!(small.contains(r#"data-testid="sku">TEE-S<"#));
    assert!(small.contains("Sold out"));
    // Markdown descriptions are rendered.
    let pan = app.get_with(&app.browser(), "/p/cast-iron-pan").await;
    assert!(pan.contains("<strong>seasoned</strong>"));
    // Related products come from the same category.
    assert!(pan.contains("/p/copperleaf-steel-pan"));
    assert_eq!(app.get("/p/no-such-product").await.status(), 404);
}

#[tokio::test]
async fn draft_and_archived_products_are_hidden_from_shoppers() {
    let app = app_with(CATALOG).await;
    sqlx::query("UPDATE products SET status = 'archived' WHERE slug = 'copperleaf-kettle'")
        .execute(app.db.reader())
        .await
        .unwrap();
    sqlx::query("UPDATE products SET status = 'draft' WHERE slug = 'cast-iron-pan'")
        .execute(app.db.reader())
        .await
        .unwrap();
    assert_eq!(app.get("/p/copperleaf-kettle").await.status(), 404);
    assert_eq!(app.get("/p/cast-iron-pan").await.status(), 404);
    assert_eq!(search(&app, "q=kettle").await["listing"]["total"], 0);
    let pans = category(&app, "pans", "").await;
    assert_eq!(pans["listing"]["total"], 2);
    let sitemap = app.get("/sitemap.xml").await.text().await.unwrap();
    assert!(sitemap.contains("/p/copperleaf-steel-pan</loc>"));
    assert!(!sitemap.contains("/p/cast-iron-pan</loc>"));
    assert!(sitemap.contains("/c/pans</loc>"));
    let robots = app.get("/robots.txt").await.text().await.unwrap();
    assert!(robots.contains("Sitemap: ") && robots.contains("/sitemap.xml"));
}

#[tokio::test]
async fn a_bad_import_line_changes_nothing() {
    let app = app_with(CATALOG).await;
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM products")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let bad = r#"{"sku":"NEW-1","name":"New pan","category":"Home & Kitchen > Cookware > Pans","price_minor":100,"currency":"EUR","stock":1}
{"sku":"PAN-1","name":"Cast Iron Pan","category":"Home & Kitchen > Cookware > Pans","price_minor":-5,"currency":"EUR","stock":1}
{"sku":"NEW-2","name":"Sneaky","description":"<script>alert(1)</script>","category":"Home & Kitchen > Cookware > Pans","price_minor":100,"currency":"EUR","stock":1}
"#;
    let err = catalog::Catalog::new(app.db.clone(), app.clock.clone(), std::time::Duration::ZERO)
        .import_jsonl(&shop_core::audit::Actor::system("test"), bad.as_bytes())
        .await
        .unwrap_err();
    let catalog::import::ImportError::InvalidRows(rows) = err else {
        panic!("expected row errors, got {err:?}");
    };
    assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 3]);
    assert!(rows[0].message.contains("price_minor"));
    assert!(rows[1].message.contains("HTML"));
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM products")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(before, after);
    let price: i64 =
        sqlx::query_scalar("SELECT price_minor FROM product_variants WHERE sku = 'PAN-1'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(price, 3000);
}

#[tokio::test]
async fn reimporting_updates_prices_stock_and_search_in_place() {
    let app = app_with(CATALOG).await;
    let update = r#"{"sku":"KET-1","name":"Copperleaf Whistling Kettle","description":"A stovetop kettle.","category":"Home & Kitchen > Kitchen Tools > Kettles","price_minor":4500,"currency":"EUR","stock":7,"brand":"Copperleaf"}
"#;
    let report =
        catalog::Catalog::new(app.db.clone(), app.clock.clone(), std::time::Duration::ZERO)
            .import_jsonl(&shop_core::audit::Actor::system("test"), update.as_bytes())
            .await
            .unwrap();
    assert_eq!((report.created, report.updated), (0, 1));
    let found = search(&app, "q=whistling").await;
    assert_eq!(
        slugs(&found["listing"]),
        vec!["copperleaf-whistling-kettle"]
    );
    assert_eq!(found["listing"]["items"][0]["price"], "€45.00");
    let history: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT a.delta, a.reason, a.on_hand_after FROM stock_adjustments a
         JOIN product_variants v ON v.id = a.variant_id WHERE v.sku = 'KET-1' ORDER BY a.created_at, a.id",
    )
    .fetch_all(app.db.reader())
    .await
    .unwrap();
    assert_eq!(
        history,
        vec![(2, "import".to_owned(), 2), (5, "import".to_owned(), 7)]
    );
}
