//! Malformed input to every registered server function and page route: never a 5xx, never a
//! parser's internal text, never a redirect off the site or a Location too long for a proxy.

use std::time::Duration;

use crate::common::{BROWSER_ACCEPT, TestApp};

/// Text that must never reach a client: parser and framework internals.
const INTERNALS: &[&str] = &[
    "error deserializing",
    "failed with reason",
    "invalid digit",
    "serde",
    "ServerFnError",
    "Deserialization",
    "panicked",
    "missing field `",
    "unknown variant",
    "invalid type:",
    "RUST_BACKTRACE",
    "sqlx",
    "LIKE or GLOB",
];

fn assert_clean(what: &str, status: reqwest::StatusCode, location: Option<&str>, body: &str) {
    assert!(
        status.as_u16() < 500,
        "{what}: {status} {}",
        body.chars().take(300).collect::<String>()
    );
    for internal in INTERNALS {
        assert!(
            !body.contains(internal),
            "{what}: {status} shows {internal:?}: {}",
            body.chars().take(300).collect::<String>()
        );
    }
    if let Some(location) = location {
        assert!(
            location.len() <= 2048,
            "{what}: Location of {} bytes",
            location.len()
        );
        assert!(
            location.starts_with('/') && !location.starts_with("//"),
            "{what}: redirect off the site: {location}"
        );
    }
}

/// Bodies a client could send to any server function.
fn bodies() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let form = "application/x-www-form-urlencoded";
    let big = "x".repeat(70 * 1024);
    let mut fields = String::new();
    for name in [
        "email",
        "password",
        "display_name",
        "full_name",
        "line1",
        "city",
        "q",
        "name",
        "quantity",
        "variant_id",
    ] {
        fields.push_str(&format!("{name}={big}&"));
    }
    let utf16: Vec<u8> = "email=a@b.c&password=x"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    vec![
        (
            "not UTF-8",
            form,
            b"email=\xff\xfe\xfd&password=\xc3\x28".to_vec(),
        ),
        ("UTF-16", form, utf16),
        ("empty", form, Vec::new()),
        ("70 KB fields", form, fields.into_bytes()),
        (
            "broken brackets",
            form,
            b"a[=1&[[[]]]=2&product[name=3&variants[99999999999999999999][sku]=x".to_vec(),
        ),
        (
            "bad escapes",
            form,
            b"email=%zz&password=%&name=%c3%28&q=%00".to_vec(),
        ),
        (
            "numbers out of range",
            form,
            b"quantity=1e99&page=-1&page=abc&delta=99999999999999999999999&price=NaN".to_vec(),
        ),
        (
            "deep nesting",
            form,
            b"a[b][c][d][e][f][g][h][i][j][k]=1&product[extra][x][y]=2".to_vec(),
        ),
        (
            "JSON garbage",
            "application/json",
            b"{\"email\": [".to_vec(),
        ),
        (
            "binary",
            "application/octet-stream",
            vec![0, 159, 146, 150, 255],
        ),
    ]
}

async fn send_all(app: &TestApp, client: &reqwest::Client, who: &str) {
    let mut paths: Vec<(&'static str, http::Method)> =
        leptos::server_fn::axum::server_fn_paths().collect();
    // Signing out last keeps a signed-in client signed in for everything else.
    paths.sort_by_key(|(p, _)| (p.ends_with("/logout"), *p));
    assert!(paths.len() > 40, "every server function is registered");
    for (path, method) in &paths {
        if *method == http::Method::GET {
            for query in [
                "?page=abc&q=%ff&slug=%00&query=".to_owned(),
                // Hyper answers 414 past 64 KB of URL: stay under it to reach the shop.
                format!("?q={}&page=99999999999999999999", "x".repeat(60 * 1024)),
                "?a[=1&[[]]=2".to_owned(),
            ] {
                let res = client
                    .get(app.url(&format!("{path}{query}")))
                    .header("accept", "application/json")
                    .send()
                    .await
                    .expect("GET");
                let status = res.status();
                let body = res.text().await.unwrap_or_default();
                assert_clean(
                    &format!("{who} GET {path}{:.30}", query),
                    status,
                    None,
                    &body,
                );
            }
            continue;
        }
        for (label, content_type, body) in bodies() {
            for js in [true, false] {
                let mut req = client
                    .post(app.url(path))
                    .header("origin", &app.address)
                    .header("content-type", content_type)
                    .body(body.clone());
                req = if js {
                    req.header("accept", "application/json")
                } else {
                    req.header("accept", BROWSER_ACCEPT)
                        .header("referer", app.url("/account?x=1"))
                };
                let res = req.send().await.expect("POST");
                let status = res.status();
                let location = res
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let text = res.text().await.unwrap_or_default();
                let what = format!(
                    "{who} POST {path} ({label}, {})",
                    if js { "JS" } else { "no JS" }
                );
                assert_clean(&what, status, location.as_deref(), &text);
                if label == "not UTF-8" || label == "UTF-16" {
                    assert!(
                        status == 400 || status == 422 || status == 403 || status.is_redirection(),
                        "{what}: {status}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn every_server_function_answers_malformed_bodies_without_a_server_error() {
    let app = TestApp::spawn().await;
    app.seed().await;
    send_all(&app, &app.browser(), "visitor").await;
    let admin = app.browser();
    app.admin(&admin).await;
    send_all(&app, &admin, "admin").await;
    // The shop still works afterwards.
    assert_eq!(app.get("/").await.status(), 200);
}

#[tokio::test]
async fn every_page_route_answers_malformed_paths_and_queries_without_a_server_error() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let admin = app.browser();
    app.admin(&admin).await;
    let mut routes = shop::startup::page_paths();
    assert!(routes.len() > 20, "{routes:?}");
    routes.extend(shop::mail_view::PATHS.map(str::to_owned));
    routes.push(app::admin::analytics::EXPORT_PATH.to_owned());
    let params = [
        "%ff%fe".to_owned(),
        "..%2f..%2fetc%2fpasswd".to_owned(),
        "<script>".to_owned(),
        "x".repeat(300),
        "x".repeat(10 * 1024),
        "0".to_owned(),
    ];
    let queries = [
        String::new(),
        "?page=abc&sort=zzz&min=-1e999&max=%ff&variant=%00&in_stock=maybe".to_owned(),
        format!("?q={}&page=99999999999999999999", "y".repeat(60 * 1024)),
        "?q=%25_%5C&status=nope&category=%00&low=2&role=god&action=%ff".to_owned(),
        "?range=custom&from=%ff&to=2026-99-99".to_owned(),
        "?range=custom&from=0001-01-01&to=9999-12-31".to_owned(),
        "?view=carts&table=abandoned-carts&range=%ff&view=%00".to_owned(),
        "?u=%ff%00&t=%3Cscript%3E&u=x".to_owned(),
        "?a[=1&[[]]=2&__path=%2Fapi%2Fx&__err=AAAA".to_owned(),
    ];
    for client in [&app.browser(), &admin] {
        for route in &routes {
            let mut paths = Vec::new();
            if route.contains(':') || route.contains('*') || route.contains('{') {
                for p in &params {
                    let path: Vec<String> = route
                        .split('/')
                        .map(|s| {
                            if s.starts_with(':') || s.starts_with('*') || s.starts_with('{') {
                                p.clone()
                            } else {
                                s.to_owned()
                            }
                        })
                        .collect();
                    paths.push(path.join("/"));
                }
            } else {
                paths.push(route.clone());
            }
            for path in paths {
                for query in &queries {
                    // A URL is at most 64 KB (hyper's limit): long paths get short queries.
                    if path.len() + query.len() > 60 * 1024 {
                        continue;
                    }
                    let url = format!("{path}{query}");
                    let res = client
                        .get(app.url(&url))
                        .header("accept", BROWSER_ACCEPT)
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("GET ({} bytes): {e:?}", url.len()));
                    let status = res.status();
                    let location = res
                        .headers()
                        .get("location")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let body = res.text().await.unwrap_or_default();
                    assert_clean(
                        &format!("GET {:.120}", url),
                        status,
                        location.as_deref(),
                        &body,
                    );
                }
            }
        }
    }
    // Static files with names no file system holds.
    for prefix in ["/pkg/", "/images/", "/"] {
        let res = app.get(&format!("{prefix}{}.js", "a".repeat(300))).await;
        assert_eq!(res.status(), 404, "{prefix}");
    }
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_gets_413_like_one_with_a_length() {
    let app = TestApp::spawn_with(crate::common::TestOptions {
        env: vec![("MAX_BODY_BYTES", "65536".to_owned())],
        ..Default::default()
    })
    .await;
    // Just over the limit, so the whole body is sent before the server answers.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..9).map(|_| Ok(vec![b'x'; 8192])).collect();
    let res = app
        .client
        .post(app.url("/api/account/login"))
        .header("origin", &app.address)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .expect("chunked post");
    assert_eq!(res.status(), 413);
    let res = app
        .client
        .post(app.url("/api/account/login"))
        .header("origin", &app.address)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'x'; 66_000])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn failed_plain_form_posts_return_only_to_pages_of_this_site() {
    let app = TestApp::spawn().await;
    for referer in [
        "//evil.example/x",
        "javascript:alert(1)",
        "https://evil.example/login",
        "http://127.0.0.1.evil.example/",
    ] {
        for body in [
            "email=nobody%40example.com&password=wrong-password-1",
            "email=not-an-email",
        ] {
            let res = app
                .browser()
                .post(app.url("/api/account/login"))
                .header("origin", &app.address)
                .header("referer", referer)
                .header("accept", BROWSER_ACCEPT)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("post");
            assert!(res.status().is_redirection(), "{referer}: {}", res.status());
            assert_eq!(res.headers()["location"], "/", "{referer}");
        }
    }
}

#[tokio::test]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(crate::common::TestOptions {
        env: vec![("HEADER_READ_TIMEOUT_SECS", "1".to_owned())],
        ..Default::default()
    })
    .await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    // Silent: connects and sends nothing.
    let mut silent = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), silent.read_to_end(&mut buf)).await;
    assert!(
        closed.is_ok(),
        "a silent connection is still open after 5 s"
    );
    // Slow: starts a request and never finishes its headers.
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("write");
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    assert!(
        closed.is_ok(),
        "the server still holds the connection after 5 s"
    );
    // A well-behaved request on a new connection is served as usual.
    assert_eq!(app.get("/health").await.status(), 200);
}
