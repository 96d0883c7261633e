//! The page cache: catalog pages are rendered once and served compressed, a catalog change
//! shows at once, searches served from it still count, and shoppers with a session get
//! the same page with their own frame (account links, cart), never anyone else's.

use std::io::Read;

use crate::common::{TestApp, TestOptions};

const CATALOG: &str = r#"{"sku":"PAN-1","name":"Cast Iron Pan","slug":"cast-iron-pan","description":"A seasoned pan.","category":"Home & Kitchen > Cookware > Pans","price_minor":3000,"currency":"EUR","stock":5,"brand":"Nordhavn","attributes":{"color":"Black"}}
{"sku":"KET-1","name":"Copperleaf Kettle","slug":"copperleaf-kettle","description":"Whistles.","category":"Home & Kitchen > Cookware > Kettles","price_minor":4500,"currency":"EUR","stock":2,"brand":"Copperleaf","attributes":{"color":"Copper"}}"#;

async fn get(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = client.get(app.url(path)).header("accept", "text/html");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.expect("GET")
}

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn catalog_pages_for_visitors_without_a_session_are_rendered_once_and_served_compressed() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let visitor = app.browser();
    // A HEAD before anything is kept is rendered and not kept: the GET after it renders.
    let head = visitor
        .head(app.url("/p/cast-iron-pan"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "x-cache"), "");
    let first = get(&app, &visitor, "/p/cast-iron-pan", &[]).await;
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "x-cache"), "miss");
    assert!(
        header(&first, "set-cookie").is_empty(),
        "no session for a visit"
    );
    let etag = header(&first, "etag");
    let policy = header(&first, "content-security-policy");
    assert!(etag.starts_with("W/\""), "{etag}");
    assert!(policy.contains("script-src 'self' 'sha256-"), "{policy}");
    let page = first.text().await.unwrap();
    assert!(page.contains("Cast Iron Pan"));

    let again = get(&app, &visitor, "/p/cast-iron-pan", &[]).await;
    assert_eq!(header(&again, "x-cache"), "hit");
    assert_eq!(header(&again, "etag"), etag);
    assert_eq!(
        header(&again, "content-security-policy"),
        policy,
        "the page keeps the policy naming its own scripts"
    );
    assert_eq!(header(&again, "cache-control"), "private, no-cache");
    assert_eq!(header(&again, "x-content-type-options"), "nosniff");
    assert_eq!(again.text().await.unwrap(), page);
    let head = visitor
        .head(app.url("/p/cast-iron-pan"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&head, "x-cache"), "hit");
    assert_eq!(header(&head, "etag"), etag);
    assert_eq!(
        get(&app, &visitor, "/p/cast-iron-pan", &[])
            .await
            .text()
            .await
            .unwrap(),
        page,
        "a HEAD leaves the kept page whole"
    );

    // Compressed once, in both encodings, each the same page.
    let br = get(
        &app,
        &visitor,
        "/p/cast-iron-pan",
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(header(&br, "vary"), "accept-encoding");
    assert_eq!(unbrotli(br).await, page);
    let gzip = get(
        &app,
        &visitor,
        "/p/cast-iron-pan",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(ungzip(gzip).await, page);

    // A browser revalidating its copy gets 304 and no body.
    let revalidated = get(
        &app,
        &visitor,
        "/p/cast-iron-pan",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(revalidated.status(), 304);
    assert_eq!(header(&revalidated, "etag"), etag);
    assert!(revalidated.bytes().await.unwrap().is_empty());

    // What is not a catalog page, or not a 200, is rendered every time.
    for path in ["/p/no-such-pan", "/cart", "/login"] {
        let res = get(&app, &visitor, path, &[]).await;
        assert_eq!(header(&res, "x-cache"), "", "{path}");
    }
}

#[tokio::test]
async fn a_change_through_the_catalog_shows_at_once_and_a_shopper_with_a_session_gets_their_own_page()
 {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let visitor = app.browser();
    let page = |res: reqwest::Response| async move { res.text().await.unwrap() };
    assert!(
        page(get(&app, &visitor, "/p/cast-iron-pan", &[]).await)
            .await
            .contains("€30.00")
    );
    let cached = get(&app, &visitor, "/p/cast-iron-pan", &[]).await;
    assert_eq!(header(&cached, "x-cache"), "hit");

    // The admin changes the price: the very next visit sees it.
    let admin = app.browser();
    app.admin(&admin).await;
    let product = shop_testkit::product_id(&app.db, "cast-iron-pan").await;
    let variant = shop_testkit::variant_id(&app.db, "PAN-1").await;
    let res = app
        .call(
            &admin,
            "admin/variant-save",
            &[
                ("product_id", product.as_str()),
                ("variant_id", variant.as_str()),
                ("variant[sku]", "PAN-1"),
                ("variant[price]", "45.00"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let after = get(&app, &visitor, "/p/cast-iron-pan", &[]).await;
    assert_eq!(header(&after, "x-cache"), "miss");
    let after = page(after).await;
    assert!(after.contains("€45.00"), "the new price at once");
    assert!(!after.contains("€30.00"));

    // A shopper with a cart has a session: they get the same page with their own frame (the
    // header counts their cart), and what is kept for the next visitor has a visitor's frame.
    let shopper = app.browser();
    let res = app
        .call(
            &shopper,
            "cart/add",
            &[("variant_id", variant.as_str()), ("quantity", "2")],
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let theirs = get(&app, &shopper, "/p/cast-iron-pan", &[]).await;
    assert_eq!(header(&theirs, "x-cache"), "hit");
    assert_eq!(
        header(&theirs, "etag"),
        "",
        "their page is not the kept one"
    );
    let theirs = page(theirs).await;
    let visitors = page(get(&app, &visitor, "/p/cast-iron-pan", &[]).await).await;
    assert_eq!(cart_count(&theirs).as_deref(), Some("2"), "{theirs}");
    assert_eq!(cart_count(&visitors).as_deref(), Some("0"));
    assert_eq!(
        without_frame(&theirs),
        without_frame(&visitors),
        "the same page around the frame"
    );
    assert_eq!(shopper_data(&theirs)["cart"]["items"], 2);

    // A page a shopper asks for first is rendered for them and kept with a visitor's frame.
    let first = get(&app, &shopper, "/p/copperleaf-kettle", &[]).await;
    assert_eq!(header(&first, "x-cache"), "miss");
    assert_eq!(cart_count(&page(first).await).as_deref(), Some("2"));
    let next = get(&app, &visitor, "/p/copperleaf-kettle", &[]).await;
    assert_eq!(header(&next, "x-cache"), "hit");
    let next = page(next).await;
    assert_eq!(cart_count(&next).as_deref(), Some("0"));
    assert!(!next.contains("data-testid=\"mini-cart\""));
    assert!(next.contains("data-testid=\"sign-in-link\""));

    // Signed in: their name and the admin link in the kept page, gzipped for them (the kept
    // page's pieces with their frame between).
    let res = get(
        &app,
        &admin,
        "/p/copperleaf-kettle",
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(header(&res, "x-cache"), "hit");
    let admins = ungzip(res).await;
    assert!(admins.contains("data-testid=\"admin-link\""));
    assert!(admins.contains("data-testid=\"sign-out\""));
    assert!(!admins.contains("data-testid=\"sign-in-link\""));
    assert_eq!(without_frame(&admins), without_frame(&next));
    assert!(
        shopper_data(&admins)["viewer"]["is_admin"]
            .as_bool()
            .unwrap()
    );
    let after = page(get(&app, &visitor, "/p/copperleaf-kettle", &[]).await).await;
    assert_eq!(after, next, "the kept page is still the visitors'");
}

/// A brotli-compressed page's text.
async fn ungzip(res: reqwest::Response) -> String {
    assert_eq!(header(&res, "content-encoding"), "gzip");
    let body = res.bytes().await.unwrap();
    let mut unpacked = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut unpacked)
        .unwrap();
    unpacked
}

async fn unbrotli(res: reqwest::Response) -> String {
    assert_eq!(header(&res, "content-encoding"), "br");
    let body = res.bytes().await.unwrap();
    let mut unpacked = Vec::new();
    brotli::BrotliDecompress(&mut &body[..], &mut unpacked).unwrap();
    String::from_utf8(unpacked).unwrap()
}

fn cart_count(html: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("[data-testid=cart-count]").unwrap();
    doc.select(&sel)
        .next()
        .map(|e| e.text().collect::<String>().trim().to_owned())
}

/// The page with the nav slot emptied (its content holds no `</nav>`); the notice slot has
/// nothing to say to anyone here (no unconfirmed address).
fn without_frame(html: &str) -> String {
    assert!(html.contains("data-frame=\"notice\"><!></div>"), "{html}");
    let open = "data-frame=\"nav\">";
    let start = html.find(open).expect(open) + open.len();
    let end = start + html[start..].find("</nav>").expect("</nav>");
    format!("{}{}", &html[..start], &html[end..])
}

/// The shopper data the nav slot carries for the browser.
fn shopper_data(html: &str) -> serde_json::Value {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("[data-frame=nav] [data-shopper]").unwrap();
    let json = doc
        .select(&sel)
        .next()
        .and_then(|e| e.value().attr("data-shopper"))
        .expect("the shopper's data");
    serde_json::from_str(json).unwrap()
}

#[tokio::test]
async fn a_search_served_from_the_cache_is_counted_every_time() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let visitor = app.browser();
    for expected in ["miss", "hit", "hit"] {
        let res = get(&app, &visitor, "/search?q=Cast+Iron", &[]).await;
        assert_eq!(res.status(), 200);
        assert_eq!(header(&res, "x-cache"), expected);
        assert!(
            header(&res, "x-shop-event").is_empty(),
            "the note stays inside"
        );
    }
    // A later page of results is not a new search.
    let res = get(
        &app,
        &visitor,
        "/search?q=Cast+Iron&page=1&sort=price_asc",
        &[],
    )
    .await;
    assert_eq!(res.status(), 200);
    let mut logged = Vec::new();
    for _ in 0..50 {
        // The same search by the same visitor before a flush is one row with its count.
        logged = sqlx::query_as::<_, (String, i64, i64)>(
            "SELECT term, results, n FROM analytics_events WHERE kind = 'search' ORDER BY id",
        )
        .fetch_all(app.db.reader())
        .await
        .unwrap()
        .into_iter()
        .flat_map(|(term, results, n)| std::iter::repeat_n((term, results), n as usize))
        .collect();
        if logged.len() >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        logged,
        vec![("cast iron".to_owned(), 1); 4],
        "three visits and one sorted first page, each counted"
    );
}

/// However a session cookie is written (after a cookie that is not ASCII, or with its name
/// percent-encoded), the page kept for visitors never shows that session's cart.
#[tokio::test]
async fn a_session_cookie_written_oddly_never_puts_a_shoppers_page_in_the_cache() {
    let app = TestApp::with_catalog(TestOptions::default(), CATALOG).await;
    let shopper = app.browser();
    let variant = shop_testkit::variant_id(&app.db, "PAN-1").await;
    let res = app
        .call(
            &shopper,
            "cart/add",
            &[("variant_id", variant.as_str()), ("quantity", "3")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let (name, id) = cookie.split_once('=').unwrap();
    let bare = reqwest::Client::new();
    let mut oddly: Vec<Vec<u8>> = vec![
        [b"x=\xe9; ".as_slice(), cookie.as_bytes()].concat(),
        format!("{}={id}", name.replace('_', "%5F")).into_bytes(),
        cookie.clone().into_bytes(),
    ];
    for written in oddly.drain(..) {
        let res = bare
            .get(app.url("/p/cast-iron-pan"))
            .header("accept", "text/html")
            .header(
                "cookie",
                reqwest::header::HeaderValue::from_bytes(&written).unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(!res.text().await.unwrap().is_empty());
    }
    // Whatever happened above, a visitor gets a page without anyone's cart.
    for _ in 0..2 {
        let visitor = app.browser();
        let html = get(&app, &visitor, "/p/cast-iron-pan", &[])
            .await
            .text()
            .await
            .unwrap();
        assert!(
            !html.contains("data-testid=\"mini-cart\""),
            "a visitor sees no one's cart"
        );
    }
}
