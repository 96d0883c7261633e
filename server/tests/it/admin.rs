//! The admin's user management: role checks on every server function, role changes and
//! account status in the audit log.

use serde_json::Value;

use crate::common::TestApp;

const PASSWORD: &str = "correct horse battery";

async fn json(res: reqwest::Response) -> Value {
    serde_json::from_str(&res.text().await.unwrap()).unwrap()
}

async fn user_id(app: &TestApp, email: &str) -> String {
    auth::find_by_email(&app.db, &shop_core::Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id
        .as_str()
        .to_owned()
}

#[tokio::test]
async fn customers_get_403_and_visitors_401_from_admin_server_functions() {
    let app = TestApp::spawn().await;
    let customer = app.browser();
    app.register(&customer, "Ada", "ada@example.com", PASSWORD)
        .await;
    let ada = user_id(&app, "ada@example.com").await;
    let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("admin/overview", vec![]),
        ("admin/users", vec![]),
        ("admin/user", vec![("id", &ada)]),
        ("admin/audit", vec![]),
        (
            "admin/user-role",
            vec![("user_id", &ada), ("role", "admin"), ("grant", "1")],
        ),
        (
            "admin/user-status",
            vec![("user_id", &ada), ("status", "disabled")],
        ),
    ];
    for (endpoint, form) in &calls {
        let res = app.call(&customer, endpoint, form).await;
        assert_eq!(res.status(), 403, "{endpoint}");
        let res = app.call(&app.browser(), endpoint, form).await;
        assert_eq!(res.status(), 401, "{endpoint}");
    }
    let roles = auth::roles(&app.db, &auth::UserId::parse(&ada).unwrap())
        .await
        .unwrap();
    assert_eq!(roles, vec![auth::Role::Customer], "nothing changed");

    let accept = crate::common::BROWSER_ACCEPT;
    let page = app
        .browser()
        .get(app.url("/admin"))
        .header("accept", accept)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 302);
    assert_eq!(page.headers()["location"], "/login?next=/admin");
    let page = customer
        .get(app.url("/admin/users"))
        .header("accept", accept)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("This page is not for your account")
    );
}

#[tokio::test]
async fn an_admin_grants_the_vendor_role_and_it_is_in_the_audit_log() {
    let app = TestApp::spawn().await;
    let admin = app.browser();
    app.admin(&admin).await;
    app.register(&app.browser(), "Vera Vendor", "vera@example.com", PASSWORD)
        .await;
    let vera = user_id(&app, "vera@example.com").await;

    let found = json(app.call(&admin, "admin/users", &[("q", "VERA")]).await).await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["rows"][0]["email"], "vera@example.com");

    let res = app
        .call(
            &admin,
            "admin/user-role",
            &[("user_id", &vera), ("role", "vendor"), ("grant", "1")],
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let vendors = json(app.call(&admin, "admin/users", &[("role", "vendor")]).await).await;
    assert_eq!(vendors["total"], 1);

    let audit = json(
        app.call(&admin, "admin/audit", &[("action", "user.role")])
            .await,
    )
    .await;
    let entry = &audit["rows"][0];
    assert_eq!(entry["action"], "user.role_granted");
    assert_eq!(entry["actor"], "boss@example.com");
    assert_eq!(entry["target"], "user vera@example.com", "named, not by id");
    assert_eq!(
        entry["target_href"],
        format!("/admin/users/{vera}"),
        "and linked"
    );
    assert_eq!(
        entry["changes"],
        serde_json::json!([r#"roles: ["customer"] → ["customer","vendor"]"#])
    );

    let detail = app.get_with(&admin, &format!("/admin/users/{vera}")).await;
    assert!(detail.contains("user.role_granted"), "{detail}");
}

#[tokio::test]
async fn the_admin_role_needs_a_verified_address_and_an_admin_cannot_demote_themselves() {
    let app = TestApp::spawn().await;
    let admin = app.browser();
    let (admin_id, _) = app.admin(&admin).await;
    // Signed up, the link in the welcome mail not opened yet: the address is unconfirmed.
    app.sign_up(&app.browser(), "Ada", "ada@example.com", PASSWORD)
        .await;
    let ada = user_id(&app, "ada@example.com").await;
    let res = app
        .call(
            &admin,
            "admin/user-role",
            &[("user_id", &ada), ("role", "admin"), ("grant", "1")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(json(res).await.to_string().contains("verified"));

    let res = app
        .call(
            &admin,
            "admin/user-role",
            &[
                ("user_id", admin_id.as_str()),
                ("role", "admin"),
                ("grant", "0"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .call(
            &admin,
            "admin/user-status",
            &[("user_id", admin_id.as_str()), ("status", "disabled")],
        )
        .await;
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions_and_blocks_sign_in() {
    let app = TestApp::spawn().await;
    let admin = app.browser();
    app.admin(&admin).await;
    let ada_browser = app.browser();
    app.register(&ada_browser, "Ada", "ada@example.com", PASSWORD)
        .await;
    let ada = user_id(&app, "ada@example.com").await;
    let res = app
        .call(
            &admin,
            "admin/user-status",
            &[("user_id", &ada), ("status", "disabled")],
        )
        .await;
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    assert_eq!(
        app.call(&ada_browser, "account/profile", &[])
            .await
            .status(),
        401
    );
    let res = app.login(&app.browser(), "ada@example.com", PASSWORD).await;
    assert_eq!(res.status(), 422);
    assert!(json(res).await.to_string().contains("disabled"));

    let audit = json(app.call(&admin, "admin/audit", &[]).await).await;
    assert_eq!(audit["rows"][0]["action"], "user.disabled");
    assert_eq!(
        audit["rows"][0]["changes"],
        serde_json::json!(["status: active → disabled"])
    );

    let res = app
        .call(
            &admin,
            "admin/user-status",
            &[("user_id", &ada), ("status", "active")],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.login(&app.browser(), "ada@example.com", PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn create_admin_is_recorded_in_the_audit_log() {
    let app = TestApp::spawn().await;
    let admin = app.browser();
    app.admin(&admin).await;
    let audit = json(app.call(&admin, "admin/audit", &[]).await).await;
    assert_eq!(audit["rows"][0]["action"], "user.admin_created");
    assert_eq!(audit["rows"][0]["actor"], "cli:create-admin");
}
