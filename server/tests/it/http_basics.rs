//! Health, readiness, metrics, security headers, request ids, limits and compression.

use crate::common::{TestApp, TestOptions};

#[tokio::test]
async fn health_answers_ok() {
    let app = TestApp::spawn().await;
    let res = app.get("/health").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ok\n");
}

#[tokio::test]
async fn ready_reflects_the_database() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/ready").await.status(), 200);
    app.db.close().await;
    let res = app.get("/ready").await;
    assert_eq!(res.status(), 503);
    assert_eq!(
        app.get("/health").await.status(),
        200,
        "liveness does not depend on the database"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_with_latency_histograms() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.get("/health").await;
    }
    app.get("/no-such-page").await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let body = res.text().await.unwrap();
    assert!(
        body.contains(r#"http_requests_total{method="GET",route="/health",status="200"} 3"#),
        "{body}"
    );
    assert!(
        body.contains(r#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#),
        "{body}"
    );
    assert!(body.contains(r#"http_request_duration_seconds_bucket{method="GET",route="/health",status="200",le="+Inf"} 3"#));
    assert!(body.contains(
        r#"http_request_duration_seconds_count{method="GET",route="/health",status="200"} 3"#
    ));
    assert!(body.contains(r#"shop_outbox_events{status="pending"} 0"#));
    assert!(
        !body.contains("no-such-page"),
        "raw paths never become labels"
    );
}

/// The `'sha256-…'` source of every inline script of `body`, read by an HTML parser.
fn inline_script_sources(body: &str) -> Vec<String> {
    use base64::Engine;
    use sha2::Digest;
    let doc = scraper::Html::parse_document(body);
    let scripts = scraper::Selector::parse("script:not([src])").unwrap();
    let mut sources: Vec<String> = doc
        .select(&scripts)
        .map(|s| {
            let text: String = s.text().collect();
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text))
            )
        })
        .collect();
    sources.sort();
    sources.dedup();
    sources
}

/// The `'sha256-…'` sources a policy names for scripts.
fn policy_hashes(csp: &str) -> Vec<String> {
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src "))
        .unwrap_or_else(|| panic!("no script-src in {csp}"));
    let mut hashes: Vec<String> = script_src
        .split_whitespace()
        .filter(|s| s.starts_with("'sha256-"))
        .map(str::to_owned)
        .collect();
    hashes.sort();
    hashes
}

#[tokio::test]
async fn pages_carry_strict_security_headers_and_a_csp_naming_their_inline_scripts() {
    let app = TestApp::spawn().await;
    // The demo catalog: the home page's product cards are islands, so it has scripts.
    app.seed().await;
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(
        h["cache-control"], "private, no-cache",
        "a page is for one shopper: never kept by a shared cache"
    );
    assert!(
        h.get("strict-transport-security").is_none(),
        "no HSTS over plain http"
    );
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains("form-action 'self' https://checkout.stripe.com"),
        "{csp}"
    );
    assert!(csp.contains("object-src 'none'"));
    assert!(csp.contains("script-src 'self' 'sha256-"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!csp.contains("'nonce-"), "{csp}");
    let body = res.text().await.unwrap();
    let inline = inline_script_sources(&body);
    assert!(!inline.is_empty(), "the hydration bootstrap is inline");
    assert_eq!(
        policy_hashes(&csp),
        inline,
        "the policy names exactly the page's inline scripts"
    );

    // The 404 page (another render) gets its own.
    let not_found = app.get("/no-such-page").await;
    assert_eq!(not_found.status(), 404);
    assert_eq!(not_found.headers()["cache-control"], "private, no-cache");
    let not_found_csp = not_found.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let not_found_body = not_found.text().await.unwrap();
    assert_eq!(
        policy_hashes(&not_found_csp),
        inline_script_sources(&not_found_body)
    );
}

#[tokio::test]
async fn only_pages_with_islands_load_the_hydration_bootstrap() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let count = |body: &str, selector: &str| {
        let doc = scraper::Html::parse_document(body);
        doc.select(&scraper::Selector::parse(selector).unwrap())
            .count()
    };
    // The home page's product cards have add-to-cart islands: the wasm is preloaded and the
    // bootstrap (the page's one inline script) runs.
    let home = app.get("/").await;
    let csp = home.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = home.text().await.unwrap();
    assert!(count(&body, "leptos-island") > 0, "{body}");
    assert_eq!(count(&body, r#"link[rel="modulepreload"]"#), 1);
    assert_eq!(count(&body, r#"link[rel="preload"][as="fetch"]"#), 1);
    assert_eq!(count(&body, r#"script[type="module"]"#), 1);
    assert!(
        body.contains("__RESOLVED_RESOURCES"),
        "the islands' data is kept"
    );
    assert_eq!(policy_hashes(&csp), inline_script_sources(&body));

    // Pages with nothing interactive (forms post as they are): no wasm, no script at all,
    // and a policy that allows no inline script; the stylesheet stays.
    for path in ["/login", "/register", "/forgot-password", "/no-such-page"] {
        let res = app.get(path).await;
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let body = res.text().await.unwrap();
        assert_eq!(count(&body, "leptos-island"), 0, "{path}");
        assert_eq!(count(&body, "script"), 0, "{path}: {body}");
        assert_eq!(
            count(&body, r#"link[rel="modulepreload"], link[as="fetch"]"#),
            0,
            "{path}"
        );
        assert_eq!(count(&body, r#"link[rel="stylesheet"]"#), 1, "{path}");
        assert!(policy_hashes(&csp).is_empty(), "{path}: {csp}");
    }
}

#[tokio::test]
async fn hsts_is_sent_when_the_public_url_is_https() {
    let app = TestApp::spawn_with(TestOptions {
        env: vec![
            ("PUBLIC_URL", "https://shop.example.com".into()),
            ("OFFLINE_PAYMENTS", "true".into()),
        ],
        ..TestOptions::default()
    })
    .await;
    let res = app.get("/health").await;
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
    let page = app.get("/").await;
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("upgrade-insecure-requests")
    );
}

#[tokio::test]
async fn every_response_has_a_request_id_and_a_valid_incoming_one_is_kept() {
    let app = TestApp::spawn().await;
    let a = app.get("/health").await;
    let b = app.get("/health").await;
    let id_a = a.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(id_a.len() >= 16);
    assert_ne!(id_a, b.headers()["x-request-id"].to_str().unwrap());
    let kept = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "lb-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "lb-1234");
    let replaced = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "<script>")
        .send()
        .await
        .unwrap();
    assert_ne!(replaced.headers()["x-request-id"], "<script>");
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = TestApp::spawn_with(TestOptions {
        env: vec![("MAX_BODY_BYTES", "4096".into())],
        ..TestOptions::default()
    })
    .await;
    let body = format!("email={}", "a".repeat(10_000));
    let res = app
        .client
        .post(app.url("/api/newsletter/subscribe"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(notifications::newsletter::count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let res = app
        .client
        .get(app.url("/"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-encoding"], "br");
    let res = app
        .client
        .get(app.url("/"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn graceful_stop_finishes_and_releases_the_port() {
    let app = TestApp::spawn().await;
    let url = app.url("/health");
    assert_eq!(app.get("/health").await.status(), 200);
    app.stop().await;
    assert!(
        reqwest::get(&url).await.is_err(),
        "nothing listens after stop"
    );
}

#[tokio::test]
async fn while_draining_ready_answers_503_and_requests_are_still_served() {
    use std::time::{Duration, Instant};
    let app = TestApp::spawn_with(TestOptions {
        env: vec![("DRAIN_DELAY_SECS", "3".to_owned())],
        ..Default::default()
    })
    .await;
    let (ready, page) = (app.url("/ready"), app.url("/"));
    assert_eq!(reqwest::get(&ready).await.unwrap().status(), 200);
    let stopping = Instant::now();
    let stopped = tokio::spawn(app.stop());
    // Shutdown has begun: the load balancer is told, and pages are still served.
    let mut draining = None;
    while stopping.elapsed() < Duration::from_secs(2) {
        let res = reqwest::get(&ready).await.unwrap();
        if res.status() == 503 {
            draining = Some(res.text().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(draining.as_deref(), Some("shutting down\n"));
    let res = reqwest::get(&page).await.unwrap();
    assert_eq!(res.status(), 200);
    let served_at = stopping.elapsed();
    stopped.await.unwrap();
    // The drain lasted its 3 s, and the page above was served within it.
    assert!(stopping.elapsed() >= Duration::from_secs(3));
    assert!(served_at < Duration::from_secs(3), "{served_at:?}");
    assert!(
        reqwest::get(&ready).await.is_err(),
        "nothing listens after the drain"
    );
}

#[tokio::test]
async fn metrics_are_for_this_machine_or_the_metrics_token_only() {
    let app = TestApp::spawn().await;
    let through_proxy = app
        .client
        .get(app.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(
        through_proxy.status(),
        403,
        "a proxied visitor is not local"
    );
    let token = "s3cret-metrics-token-1";
    let app = TestApp::spawn_with(TestOptions {
        env: vec![("METRICS_TOKEN", token.to_owned())],
        ..Default::default()
    })
    .await;
    for auth in [None, Some("Bearer wrong-token-000000"), Some(token)] {
        let mut req = app.client.get(app.url("/metrics"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401, "{auth:?}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
    }
    let res = app
        .client
        .get(app.url("/metrics"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("http_requests_total"));
}

#[tokio::test]
async fn a_client_over_the_rate_limit_gets_429_with_retry_after_and_others_are_served() {
    let app = TestApp::spawn_with(TestOptions {
        // 30 a minute: bursts of 5, one more every 2 s.
        env: vec![
            ("RATE_LIMIT_PER_MINUTE", "30".to_owned()),
            ("TRUST_PROXY", "true".to_owned()),
        ],
        ..Default::default()
    })
    .await;
    let get = |ip: &'static str| {
        app.client
            .get(app.url("/login"))
            .header("x-forwarded-for", ip)
            .send()
    };
    for i in 0..5 {
        assert_eq!(
            get("198.51.100.1").await.unwrap().status(),
            200,
            "request {i}"
        );
    }
    let limited = get("198.51.100.1").await.unwrap();
    assert_eq!(limited.status(), 429);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        get("198.51.100.2").await.unwrap().status(),
        200,
        "another client"
    );
    let health = app
        .client
        .get(app.url("/health"))
        .header("x-forwarded-for", "198.51.100.1")
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "health checks are never limited");
}
