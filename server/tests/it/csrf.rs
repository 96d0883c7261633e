//! Cross-origin requests to state-changing endpoints are refused; same-origin ones work,
//! with JavaScript (fetch) and without (a plain form post).

use crate::common::TestApp;

const SUBSCRIBE: &str = "/api/newsletter/subscribe";

async fn subscribers(app: &TestApp) -> i64 {
    notifications::newsletter::count(&app.db).await.unwrap()
}

#[tokio::test]
async fn a_cross_origin_server_function_call_is_refused_with_403_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url(SUBSCRIBE))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=victim%40example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(subscribers(&app).await, 0);

    let res = app
        .client
        .post(app.url(SUBSCRIBE))
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .form(&[("email", "victim@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    let res = app
        .client
        .post(app.url(SUBSCRIBE))
        .header("origin", "null")
        .form(&[("email", "victim@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "opaque origins are refused");
    assert_eq!(subscribers(&app).await, 0);
}

#[tokio::test]
async fn a_same_origin_fetch_call_succeeds() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url(SUBSCRIBE))
        .header("origin", &app.address)
        .header("sec-fetch-site", "same-origin")
        .header("accept", "application/json")
        .form(&[("email", "Jane@Example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    assert_eq!(subscribers(&app).await, 1);
}

#[tokio::test]
async fn a_plain_form_post_without_javascript_redirects_back_with_the_outcome() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url(SUBSCRIBE))
        .header("origin", &app.address)
        .header("referer", app.url("/?page=2"))
        .header("accept", "text/html,application/xhtml+xml")
        .form(&[("email", "jane@example.com")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()["location"], "/?page=2&flash=subscribed");
    assert_eq!(subscribers(&app).await, 1);

    let page = app
        .get("/?page=2&flash=subscribed")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Thanks! Look out for a welcome email."));
}

#[tokio::test]
async fn a_plain_form_post_with_a_bad_email_comes_back_with_the_error_beside_the_field() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url(SUBSCRIBE))
        .header("origin", &app.address)
        .header("referer", app.url("/"))
        .header("accept", "text/html")
        .form(&[("email", "not-an-email")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        location, "/",
        "back to the page the form was on, with nothing in the URL"
    );
    let page = app
        .client
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Enter an email address like name@example.com."),
        "error shown on the page"
    );
    assert_eq!(subscribers(&app).await, 0);
}

#[tokio::test]
async fn a_request_without_browser_origin_headers_is_not_a_forgery_and_passes() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url(SUBSCRIBE))
        .header("accept", "application/json")
        .form(&[("email", "api@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn invalid_input_gets_422_with_a_field_error() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(app.url(SUBSCRIBE))
        .header("accept", "application/json")
        .form(&[("email", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["Invalid"]["field"], "email");
    let missing = app
        .client
        .post(app.url(SUBSCRIBE))
        .header("accept", "application/json")
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 422, "a form without its field is refused");
    assert_eq!(subscribers(&app).await, 0);
}
