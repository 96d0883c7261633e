//! Server-rendered pages: complete HTML without JavaScript, landmarks, 404 and error pages.

use crate::common::TestApp;

#[tokio::test]
async fn the_home_page_renders_the_shell_and_demo_catalog_without_javascript() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(
        html.contains("<title>Test Shop</title>"),
        "title from the shop name"
    );
    assert!(html.contains("<html lang=\"en\""));
    assert!(html.contains("<main id=\"main\""), "main landmark");
    assert!(
        html.contains("aria-label=\"Categories\""),
        "category navigation"
    );
    assert!(html.contains("role=\"search\""), "search landmark");
    assert!(html.contains("Skip to content"));
    // Departments come from the database, rendered in the HTML itself.
    for department in ["Home &amp; Kitchen", "Electronics", "Garden &amp; DIY"] {
        assert!(html.contains(department), "{department} in the page");
    }
    assert!(html.contains("data-testid=\"new-arrivals\""));
    assert!(html.contains('€'), "prices formatted from minor units");
    assert!(
        !html.contains("Loading…"),
        "no suspense fallback left in a complete page"
    );
}

#[tokio::test]
async fn an_unknown_page_is_a_styled_404() {
    let app = TestApp::spawn().await;
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status(), 404);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("We couldn&#x27;t find that page")
            || html.contains("We couldn't find that page"),
        "{html}"
    );
    assert!(html.contains("Go to the home page"));
    assert!(
        html.contains("<main id=\"main\""),
        "the 404 keeps the shop frame"
    );
}

#[tokio::test]
async fn when_the_database_fails_the_page_shows_the_request_id() {
    let app = TestApp::spawn().await;
    app.db.close().await;
    let res = app.get("/").await;
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let html = res.text().await.unwrap();
    assert!(html.contains("data-testid=\"error-panel\""), "{html}");
    assert!(html.contains(&id), "the request id {id} is on the page");
    assert!(
        !html.contains("PoolClosed") && !html.contains("pool"),
        "internal error text never reaches the browser"
    );
}

#[tokio::test]
async fn robots_and_favicon_are_served_from_public() {
    let app = TestApp::spawn().await;
    // Tests run from server/, where the built site is not; the assets come from public/ when
    // the site is built, so only check that missing assets are a clean 404.
    let res = app.get("/pkg/does-not-exist.js").await;
    assert_eq!(res.status(), 404);
    assert!(
        res.headers().get("cache-control").is_none(),
        "a missing asset is never cached"
    );
}
