//! Accounts through the real router: sign-up, verification, sign-in and out, sessions,
//! password change and reset, email change, throttling, the address book.

use std::time::Duration;

use serde_json::Value;

use crate::common::{TestApp, TestOptions};

const PASSWORD: &str = "correct horse battery";

async fn json(res: reqwest::Response) -> Value {
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// The `shop_session` cookie a response sets, if any.
fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("shop_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// Who the server thinks is signed in for a raw `Cookie` header: their email, or `None`.
async fn whoami_with_cookie(app: &TestApp, cookie: &str) -> Option<String> {
    let res = reqwest::Client::new()
        .post(app.url("/api/account/profile"))
        .header("cookie", cookie)
        .header("origin", &app.address)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    if res.status() == 401 {
        return None;
    }
    assert_eq!(res.status(), 200);
    json(res).await["email"].as_str().map(str::to_owned)
}

async fn whoami(app: &TestApp, client: &reqwest::Client) -> Option<String> {
    let res = app.call(client, "account/profile", &[]).await;
    match res.status().as_u16() {
        401 => None,
        200 => json(res).await["email"].as_str().map(str::to_owned),
        other => panic!("profile answered {other}"),
    }
}

#[tokio::test]
async fn registering_mails_a_link_that_confirms_the_address_and_signs_in_once() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    app.sign_up(&browser, "Ada Lovelace", "Ada@Example.com", PASSWORD)
        .await;
    assert_eq!(
        whoami(&app, &browser).await,
        None,
        "not signed in before the link"
    );

    app.deliver_outbox().await;
    let token = app.token_from_mail("ada@example.com", "/verify-email");
    let res = app
        .call(&browser, "account/verify-email", &[("token", &token)])
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    assert_eq!(
        whoami(&app, &browser).await.as_deref(),
        Some("ada@example.com"),
        "the link signs the new account in"
    );
    let account = app.get_with(&browser, "/account").await;
    assert!(account.contains("Ada Lovelace"), "{account}");
    let user = auth::find_by_email(
        &app.db,
        &shop_core::Email::parse("ada@example.com").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(user.is_verified());

    let again = app
        .call(&browser, "account/verify-email", &[("token", &token)])
        .await;
    assert_eq!(again.status(), 422);
    assert!(json(again).await.to_string().contains("already been used"));
}

#[tokio::test]
async fn a_verification_link_expires_after_24_hours() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    app.register(&browser, "Grace", "grace@example.com", PASSWORD)
        .await;
    app.deliver_outbox().await;
    let token = app.token_from_mail("grace@example.com", "/verify-email");
    app.clock.advance(Duration::from_secs(24 * 3600 + 60));
    let res = app
        .call(&browser, "account/verify-email", &[("token", &token)])
        .await;
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn registering_a_taken_address_answers_as_for_a_new_one_and_tells_its_owner() {
    let app = TestApp::spawn().await;
    app.register(&app.browser(), "Ada", "ada@example.com", PASSWORD)
        .await;
    let fresh = app
        .sign_up(&app.browser(), "Newcomer", "new@example.com", PASSWORD)
        .await;
    let taken = app
        .sign_up(
            &app.browser(),
            "Other",
            "ADA@example.com",
            "another passphrase 1",
        )
        .await;
    assert_eq!(taken.status(), fresh.status());
    let location = |r: &reqwest::Response| {
        r.headers()
            .get("serverfnredirect")
            .or_else(|| r.headers().get("location"))
            .map(|v| v.to_str().unwrap_or_default().to_owned())
    };
    assert_eq!(location(&taken), location(&fresh), "the same next page");
    let users: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = 'ada@example.com'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
    assert_eq!(users, 1, "no second account");

    app.deliver_outbox().await;
    let note = app
        .last_mail("ada@example.com", "tried to create")
        .expect("the owner is told");
    assert!(
        note.contains("/login") && note.contains("/forgot-password"),
        "{note}"
    );
    assert!(
        app.last_mail("new@example.com", "/verify-email?token=")
            .is_some()
    );
    // The old password still signs in; the one typed in the attempt does not.
    assert_eq!(
        app.login(&app.browser(), "ada@example.com", PASSWORD)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.login(&app.browser(), "ada@example.com", "another passphrase 1")
            .await
            .status(),
        422
    );
}

#[tokio::test]
async fn a_guest_cart_joins_the_new_account_when_the_link_is_opened() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let browser = app.browser();
    let variant: String = sqlx::query_scalar(
        "SELECT v.id FROM product_variants v JOIN products p ON p.id = v.product_id
         WHERE p.status = 'active' AND v.on_hand > 2 ORDER BY v.sku LIMIT 1",
    )
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    let res = app
        .call(
            &browser,
            "cart/add",
            &[("variant_id", &variant), ("quantity", "2")],
        )
        .await;
    assert_eq!(res.status(), 200);
    app.register(&browser, "Ada", "ada@example.com", PASSWORD)
        .await;
    let user: String = sqlx::query_scalar("SELECT id FROM users WHERE email = 'ada@example.com'")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let units: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(l.quantity), 0) AS BIGINT) FROM cart_lines l JOIN carts c ON c.id = l.cart_id
         WHERE c.user_id = $1",
    )
    .bind(&user)
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    assert_eq!(units, 2, "the guest's cart is the new account's cart");
}

#[tokio::test]
async fn weak_passwords_are_refused_beside_the_password_field() {
    let app = TestApp::spawn().await;
    for (password, expected) in [
        ("short", "at least 8"),
        ("password123", "too common"),
        ("ada@example.com", "not your email"),
    ] {
        let res = app
            .call(
                &app.browser(),
                "account/register",
                &[
                    ("display_name", "Ada"),
                    ("email", "ada@example.com"),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(res.status(), 422, "{password}");
        let body = json(res).await;
        assert_eq!(body["Invalid"]["field"], "password");
        assert!(
            body["Invalid"]["message"]
                .as_str()
                .unwrap()
                .contains(expected),
            "{body}"
        );
    }
    assert!(
        auth::find_by_email(
            &app.db,
            &shop_core::Email::parse("ada@example.com").unwrap()
        )
        .await
        .unwrap()
        .is_none()
    );
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in_and_the_old_cookie_is_dead_after_sign_out() {
    let app = TestApp::spawn().await;
    app.register(&app.browser(), "Ada", "ada@example.com", PASSWORD)
        .await;
    let browser = app.browser();
    let first = app.login(&browser, "ada@example.com", PASSWORD).await;
    assert_eq!(first.status(), 200);
    let first_cookie = session_cookie(&first).expect("a session cookie");
    let set_cookie = first.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");

    let second = app.login(&browser, "ada@example.com", PASSWORD).await;
    let second_cookie = session_cookie(&second).expect("a new session cookie");
    assert_ne!(
        first_cookie, second_cookie,
        "signing in again issues a new id"
    );
    assert_eq!(whoami_with_cookie(&app, &first_cookie).await, None);
    assert_eq!(
        whoami_with_cookie(&app, &second_cookie).await.as_deref(),
        Some("ada@example.com")
    );

    let out = app.call(&browser, "account/logout", &[]).await;
    assert_eq!(out.status(), 200);
    assert_eq!(whoami(&app, &browser).await, None);
    assert_eq!(
        whoami_with_cookie(&app, &second_cookie).await,
        None,
        "the cookie from before sign-out no longer works"
    );
}

#[tokio::test]
async fn sessions_are_stored_under_a_hash_of_the_cookie() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    app.register(&browser, "Ada", "ada@example.com", PASSWORD)
        .await;
    let res = app.login(&browser, "ada@example.com", PASSWORD).await;
    let cookie = session_cookie(&res).unwrap();
    let id = cookie.trim_start_matches("shop_session=");
    let stored: Vec<String> = sqlx::query_scalar("SELECT id FROM sessions")
        .fetch_all(app.db.reader())
        .await
        .unwrap();
    assert!(!stored.is_empty());
    assert!(stored.iter().all(|s| s != id), "the raw id is never stored");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.register(&app.browser(), "Ada", "ada@example.com", PASSWORD)
        .await;
    let wrong = app
        .login(&app.browser(), "ada@example.com", "not the password")
        .await;
    let unknown = app
        .login(&app.browser(), "nobody@example.com", "not the password")
        .await;
    assert_eq!(wrong.status(), unknown.status());
    assert_eq!(wrong.status(), 422);
    // The only difference is the address typed, echoed back to refill the form.
    let (wrong, unknown) = (json(wrong).await, json(unknown).await);
    assert_eq!(wrong["Invalid"]["message"], unknown["Invalid"]["message"]);
    assert_eq!(wrong["Invalid"]["field"], unknown["Invalid"]["field"]);
}

#[tokio::test]
async fn sign_in_returns_only_to_pages_of_this_site() {
    let app = TestApp::spawn().await;
    app.register(&app.browser(), "Ada", "ada@example.com", PASSWORD)
        .await;
    for (next, expected) in [
        ("/account/addresses", "/account/addresses?flash=signed_in"),
        ("https://evil.example/x", "/account?flash=signed_in"),
        ("//evil.example", "/account?flash=signed_in"),
    ] {
        let res = app
            .post_form(
                &app.browser(),
                "account/login",
                "/login",
                &[
                    ("email", "ada@example.com"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(res.status(), 302, "{next}");
        assert_eq!(res.headers()["location"], expected, "{next}");
    }
}

#[tokio::test]
async fn a_failed_plain_form_sign_in_keeps_the_email_but_never_the_password() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let res = app
        .post_form(
            &browser,
            "account/login",
            "/login",
            &[
                ("email", "ada@example.com"),
                ("password", "secret-guess-123"),
            ],
        )
        .await;
    assert!(res.status().is_redirection());
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/login", "the error is not in the URL");
    let page = app.get_with(&browser, &location).await;
    // Another browser following the same link sees no error.
    let stranger = app.get_with(&app.browser(), &location).await;
    assert!(!stranger.contains("The email or password is incorrect."));
    assert!(
        page.contains("The email or password is incorrect."),
        "{page}"
    );
    assert!(page.contains("value=\"ada@example.com\""), "{page}");
    assert!(!page.contains("secret-guess"));
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_and_tells_the_user() {
    let app = TestApp::spawn().await;
    let laptop = app.browser();
    app.register(&laptop, "Ada", "ada@example.com", PASSWORD)
        .await;
    let phone = app.browser();
    assert_eq!(
        app.login(&phone, "ada@example.com", PASSWORD)
            .await
            .status(),
        200
    );

    let wrong = app
        .call(
            &laptop,
            "account/change-password",
            &[
                ("current_password", "not it"),
                ("password", "a brand new passphrase"),
                ("password_confirm", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    assert_eq!(json(wrong).await["Invalid"]["field"], "current_password");

    let res = app
        .call(
            &laptop,
            "account/change-password",
            &[
                ("current_password", PASSWORD),
                ("password", "a brand new passphrase"),
                ("password_confirm", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    assert_eq!(
        whoami(&app, &laptop).await.as_deref(),
        Some("ada@example.com")
    );
    assert_eq!(whoami(&app, &phone).await, None, "the other session ended");
    assert_eq!(
        app.login(&app.browser(), "ada@example.com", PASSWORD)
            .await
            .status(),
        422
    );
    assert_eq!(
        app.login(&app.browser(), "ada@example.com", "a brand new passphrase")
            .await
            .status(),
        200
    );
    app.deliver_outbox().await;
    assert!(
        app.last_mail("ada@example.com", "Your password was changed")
            .is_some()
    );
}

#[tokio::test]
async fn signing_out_everywhere_else_keeps_only_this_session() {
    let app = TestApp::spawn().await;
    let laptop = app.browser();
    app.register(&laptop, "Ada", "ada@example.com", PASSWORD)
        .await;
    let phone = app.browser();
    let tablet = app.browser();
    for b in [&phone, &tablet] {
        assert_eq!(
            app.login(b, "ada@example.com", PASSWORD).await.status(),
            200
        );
    }
    let list = json(app.call(&laptop, "account/sessions", &[]).await).await;
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert_eq!(
        list.as_array()
            .unwrap()
            .iter()
            .filter(|s| s["current"] == true)
            .count(),
        1
    );

    // One session by its key, then all the others.
    let phone_key = {
        let phone_list = json(app.call(&phone, "account/sessions", &[]).await).await;
        phone_list
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["current"] == true)
            .unwrap()["key"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let res = app
        .call(&laptop, "account/end-session", &[("key", &phone_key)])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(whoami(&app, &phone).await, None);
    assert!(whoami(&app, &tablet).await.is_some());

    let res = app.call(&laptop, "account/end-other-sessions", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(whoami(&app, &tablet).await, None);
    assert!(whoami(&app, &laptop).await.is_some());
}

#[tokio::test]
async fn another_users_session_cannot_be_ended() {
    let app = TestApp::spawn().await;
    let ada = app.browser();
    app.register(&ada, "Ada", "ada@example.com", PASSWORD).await;
    let ada_key = json(app.call(&ada, "account/sessions", &[]).await).await[0]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let eve = app.browser();
    app.register(&eve, "Eve", "eve@example.com", PASSWORD).await;
    let res = app
        .call(&eve, "account/end-session", &[("key", &ada_key)])
        .await;
    assert_eq!(res.status(), 404);
    assert!(whoami(&app, &ada).await.is_some());
}

#[tokio::test]
async fn password_reset_answers_the_same_for_unknown_addresses_and_works_once() {
    let app = TestApp::spawn().await;
    let old_session = app.browser();
    app.register(&old_session, "Ada", "ada@example.com", PASSWORD)
        .await;
    let known = app
        .call(
            &app.browser(),
            "account/forgot-password",
            &[("email", "ada@example.com")],
        )
        .await;
    let unknown = app
        .call(
            &app.browser(),
            "account/forgot-password",
            &[("email", "nobody@example.com")],
        )
        .await;
    assert_eq!(known.status(), 200);
    assert_eq!(unknown.status(), 200);
    assert_eq!(known.headers()["location"], unknown.headers()["location"]);
    assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());

    app.deliver_outbox().await;
    assert!(app.last_mail("nobody@example.com", "").is_none());
    let token = app.token_from_mail("ada@example.com", "/reset-password");
    let valid = json(
        app.call(&app.browser(), "account/reset-token", &[("token", &token)])
            .await,
    )
    .await;
    assert_eq!(valid, Value::Bool(true));

    let browser = app.browser();
    let res = app
        .call(
            &browser,
            "account/reset-password",
            &[
                ("token", &token),
                ("password", "a fresh start 2026"),
                ("password_confirm", "a fresh start 2026"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    assert_eq!(
        whoami(&app, &old_session).await,
        None,
        "every session ended"
    );
    assert_eq!(
        app.login(&app.browser(), "ada@example.com", "a fresh start 2026")
            .await
            .status(),
        200
    );
    let reuse = app
        .call(
            &browser,
            "account/reset-password",
            &[
                ("token", &token),
                ("password", "another one 2026"),
                ("password_confirm", "another one 2026"),
            ],
        )
        .await;
    assert_eq!(reuse.status(), 422);
}

#[tokio::test]
async fn a_reset_link_expires_after_an_hour() {
    let app = TestApp::spawn().await;
    app.register(&app.browser(), "Ada", "ada@example.com", PASSWORD)
        .await;
    app.call(
        &app.browser(),
        "account/forgot-password",
        &[("email", "ada@example.com")],
    )
    .await;
    app.deliver_outbox().await;
    let token = app.token_from_mail("ada@example.com", "/reset-password");
    app.clock.advance(Duration::from_secs(61 * 60));
    let res = app
        .call(
            &app.browser(),
            "account/reset-password",
            &[
                ("token", &token),
                ("password", "a fresh start 2026"),
                ("password_confirm", "a fresh start 2026"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        app.login(&app.browser(), "ada@example.com", PASSWORD)
            .await
            .status(),
        200,
        "the old password still works"
    );
}

#[tokio::test]
async fn reset_requests_are_rate_limited_per_address() {
    let app = TestApp::spawn().await;
    let first = app
        .call(
            &app.browser(),
            "account/forgot-password",
            &[("email", "ada@example.com")],
        )
        .await;
    assert_eq!(first.status(), 200);
    let second = app
        .call(
            &app.browser(),
            "account/forgot-password",
            &[("email", "ada@example.com")],
        )
        .await;
    assert_eq!(second.status(), 429);
    assert!(second.headers().contains_key("retry-after"));
    app.clock.advance(Duration::from_secs(61));
    let third = app
        .call(
            &app.browser(),
            "account/forgot-password",
            &[("email", "ada@example.com")],
        )
        .await;
    assert_eq!(third.status(), 200);
}

#[tokio::test]
async fn failed_sign_ins_on_one_account_are_throttled_and_the_delay_ends() {
    let app = TestApp::spawn().await;
    app.register(&app.browser(), "Ada", "ada@example.com", PASSWORD)
        .await;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(
            app.login(&app.browser(), "ada@example.com", "wrong guess")
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(
        statuses.contains(&429),
        "throttled by the 10th attempt: {statuses:?}"
    );
    assert!(statuses[..4].iter().all(|s| *s == 422), "{statuses:?}");
    let blocked = app.login(&app.browser(), "ada@example.com", PASSWORD).await;
    assert_eq!(blocked.status(), 429, "even the right password waits");
    let retry_after: u64 = blocked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry_after), "{retry_after}");

    app.clock.advance(Duration::from_secs(retry_after + 1));
    assert_eq!(
        app.login(&app.browser(), "ada@example.com", PASSWORD)
            .await
            .status(),
        200,
        "the delay ends by itself"
    );
}

#[tokio::test]
async fn failed_sign_ins_from_one_address_across_accounts_are_throttled() {
    let app = TestApp::spawn().await;
    let mut statuses = Vec::new();
    for i in 0..11 {
        let email = format!("guess{i}@example.com");
        statuses.push(
            app.login(&app.browser(), &email, "wrong")
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(statuses[..9].iter().all(|s| *s == 422), "{statuses:?}");
    assert_eq!(
        statuses[10], 429,
        "the address is slowed down after 10 failures: {statuses:?}"
    );
}

#[tokio::test]
async fn an_email_change_needs_the_password_and_the_new_address_confirming() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    app.register(&browser, "Ada", "ada@example.com", PASSWORD)
        .await;
    let wrong = app
        .call(
            &browser,
            "account/change-email",
            &[("email", "ada@new.example"), ("current_password", "nope")],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    assert_eq!(json(wrong).await["Invalid"]["field"], "current_password");

    let res = app
        .call(
            &browser,
            "account/change-email",
            &[("email", "ada@new.example"), ("current_password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    assert_eq!(
        whoami(&app, &browser).await.as_deref(),
        Some("ada@example.com"),
        "nothing changes before the link is followed"
    );
    app.deliver_outbox().await;
    let token = app.token_from_mail("ada@new.example", "/confirm-email");
    let res = app
        .call(&browser, "account/confirm-email", &[("token", &token)])
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    assert_eq!(
        whoami(&app, &browser).await.as_deref(),
        Some("ada@new.example")
    );
    app.deliver_outbox().await;
    let notice = app
        .last_mail("ada@example.com", "Your email address was changed")
        .expect("the old address is told");
    assert!(notice.contains("ada@new.example"));
}

#[tokio::test]
async fn admins_time_out_after_30_idle_minutes_customers_do_not() {
    let app = TestApp::spawn().await;
    let admin = app.browser();
    app.admin(&admin).await;
    let customer = app.browser();
    app.register(&customer, "Ada", "ada@example.com", PASSWORD)
        .await;
    app.clock.advance(Duration::from_secs(31 * 60));
    assert_eq!(whoami(&app, &admin).await, None);
    assert!(whoami(&app, &customer).await.is_some());
}

#[tokio::test]
async fn the_address_book_adds_edits_defaults_and_deletes_only_ones_own_addresses() {
    let app = TestApp::spawn().await;
    let ada = app.browser();
    app.register(&ada, "Ada", "ada@example.com", PASSWORD).await;
    let address = |name: &'static str| {
        vec![
            ("full_name", name),
            ("line1", "1 Main Street"),
            ("line2", ""),
            ("city", "Leeds"),
            ("region", ""),
            ("postal_code", "LS1 1AA"),
            ("country", "GB"),
            ("phone", ""),
        ]
    };
    for name in ["Home", "Work"] {
        let res = app.call(&ada, "account/save-address", &address(name)).await;
        assert_eq!(res.status(), 200, "{:?}", res.text().await);
    }
    let list = json(app.call(&ada, "account/addresses", &[]).await).await;
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[0]["full_name"], "Home",
        "the first address is the default"
    );
    assert_eq!(list[0]["is_default"], true);
    let work_id = list[1]["id"].as_str().unwrap().to_owned();

    let bad = app
        .call(
            &ada,
            "account/save-address",
            &[
                ("full_name", "X"),
                ("line1", "1 Main Street"),
                ("line2", ""),
                ("city", ""),
                ("region", ""),
                ("postal_code", "LS1"),
                ("country", "GB"),
                ("phone", ""),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422);
    assert_eq!(json(bad).await["Invalid"]["field"], "city");

    let res = app
        .call(&ada, "account/default-address", &[("id", &work_id)])
        .await;
    assert_eq!(res.status(), 200);
    let list = json(app.call(&ada, "account/addresses", &[]).await).await;
    assert_eq!(list[0]["full_name"], "Work");

    let eve = app.browser();
    app.register(&eve, "Eve", "eve@example.com", PASSWORD).await;
    for endpoint in [
        "account/delete-address",
        "account/default-address",
        "account/address",
    ] {
        let res = app.call(&eve, endpoint, &[("id", &work_id)]).await;
        assert_eq!(res.status(), 404, "{endpoint}");
    }
    let mut edit = address("Hacked");
    edit.push(("id", &work_id));
    assert_eq!(
        app.call(&eve, "account/save-address", &edit).await.status(),
        404
    );

    let res = app
        .call(&ada, "account/delete-address", &[("id", &work_id)])
        .await;
    assert_eq!(res.status(), 200);
    let list = json(app.call(&ada, "account/addresses", &[]).await).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        list[0]["is_default"], true,
        "the remaining address is the default"
    );
}

#[tokio::test]
async fn account_pages_send_visitors_to_sign_in_and_back() {
    let app = TestApp::spawn().await;
    let res = app.get("/account/addresses").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/login?next=/account/addresses");
    let res = app.call(&app.browser(), "account/addresses", &[]).await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_cross_origin_sign_in_post_is_refused() {
    let app = TestApp::spawn().await;
    let res = app
        .browser()
        .post(app.url("/api/account/login"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[("email", "ada@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn the_confirmation_mail_can_be_resent_after_a_cool_down() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    // Signed up, then signed in with the password before opening the link.
    app.sign_up(&browser, "Ada", "ada@example.com", PASSWORD)
        .await;
    assert_eq!(
        app.login(&browser, "ada@example.com", PASSWORD)
            .await
            .status(),
        200
    );
    let first = app.call(&browser, "account/resend-verification", &[]).await;
    assert_eq!(first.status(), 200);
    let again = app.call(&browser, "account/resend-verification", &[]).await;
    assert_eq!(again.status(), 429);
    app.clock.advance(Duration::from_secs(61));
    let later = app.call(&browser, "account/resend-verification", &[]).await;
    assert_eq!(later.status(), 200);

    app.deliver_outbox().await;
    let links = app
        .mails()
        .iter()
        .filter(|m| m.contains("To: ada@example.com") && m.contains("/verify-email?token="))
        .count();
    assert_eq!(links, 3, "the welcome mail and two resends");
    let token = app.token_from_mail("ada@example.com", "/verify-email");
    let res = app
        .call(&browser, "account/verify-email", &[("token", &token)])
        .await;
    assert_eq!(res.status(), 200);
    app.clock.advance(Duration::from_secs(61));
    let verified = app.call(&browser, "account/resend-verification", &[]).await;
    assert_eq!(verified.status(), 422);
    assert!(
        json(verified)
            .await
            .to_string()
            .contains("already verified")
    );
    let anonymous = app
        .call(&app.browser(), "account/resend-verification", &[])
        .await;
    assert_eq!(anonymous.status(), 401);
}

/// Signs in as a browser behind `ip` (the app trusts the proxy header in these tests).
async fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> reqwest::Response {
    app.browser()
        .post(app.url("/api/account/login"))
        .header("origin", &app.address)
        .header("accept", "application/json")
        .header("x-forwarded-for", ip)
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .expect("login")
}

#[tokio::test]
async fn an_attacker_hammering_an_account_from_a_few_addresses_does_not_keep_its_owner_out() {
    let app = TestApp::spawn_with(TestOptions {
        env: vec![("TRUST_PROXY", "true".to_owned())],
        ..Default::default()
    })
    .await;
    app.register(&app.browser(), "Ada", "ada@example.com", PASSWORD)
        .await;
    // Three attacker addresses, 15 wrong guesses each: each address is slowed down.
    for attacker in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        let mut statuses = Vec::new();
        for _ in 0..15 {
            statuses.push(
                login_from(&app, attacker, "ada@example.com", "wrong guess")
                    .await
                    .status()
                    .as_u16(),
            );
        }
        assert!(statuses.contains(&429), "{attacker}: {statuses:?}");
        let right = login_from(&app, attacker, "ada@example.com", PASSWORD).await;
        assert_eq!(
            right.status(),
            429,
            "{attacker} waits even with the password"
        );
    }
    // The owner, from home, signs in at once.
    let owner = login_from(&app, "198.51.100.7", "ada@example.com", PASSWORD).await;
    assert_eq!(owner.status(), 200, "the owner is not locked out");
}

#[tokio::test]
async fn guessing_one_account_from_many_addresses_is_still_slowed_down() {
    let app = TestApp::spawn_with(TestOptions {
        env: vec![("TRUST_PROXY", "true".to_owned())],
        ..Default::default()
    })
    .await;
    app.register(&app.browser(), "Ada", "ada@example.com", PASSWORD)
        .await;
    let mut statuses = Vec::new();
    for i in 0..30 {
        let ip = format!("192.0.2.{}", i + 1);
        statuses.push(
            login_from(&app, &ip, "ada@example.com", "wrong guess")
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(
        statuses[..9].iter().all(|s| *s == 422),
        "the first addresses are answered: {statuses:?}"
    );
    assert!(
        statuses[10..].contains(&429),
        "a guess from many addresses is slowed down: {statuses:?}"
    );
}
