//! Hostile text in every user-controlled field: each page that shows it is parsed with a real
//! HTML5 parser (html5ever, through `scraper`), which must find no injected element and read
//! every text back exactly as it was entered. Leptos writes the children of `<title>`,
//! `<textarea>`, `<script>` and `<style>` without escaping, so these are the contexts tried.
//!
//! Also here: saving each admin editor form exactly as the page rendered it changes nothing.

use scraper::{ElementRef, Html, Selector};

use crate::common::TestApp;

const PASSWORD: &str = "correct horse battery";

/// Closes every raw-text and RCDATA element, then opens a marked element, a comment and a
/// character reference. No `:` or `,` so it fits inside `name: value` lists.
fn hostile(label: &str) -> String {
    format!(
        "{label} </title></textarea></script></style><b data-injected>x</b><!-- &amp &lt \"' -->"
    )
}

fn sel(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("selector {css}: {e:?}"))
}

fn text_of(el: ElementRef<'_>) -> String {
    el.text().collect()
}

/// Loads `path` as `client` and checks the parsed document: exactly one `<title>`, no
/// element the hostile text tried to inject, no `<meta http-equiv>`, no form to elsewhere.
async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> Html {
    let html = app.get_with(client, path).await;
    let doc = Html::parse_document(&html);
    assert!(
        doc.select(&sel("[data-injected]")).next().is_none(),
        "{path}: an injected element was parsed"
    );
    assert!(
        doc.select(&sel("meta[http-equiv]")).next().is_none(),
        "{path}: an injected <meta http-equiv>"
    );
    assert_eq!(
        doc.select(&sel("title")).count(),
        1,
        "{path}: exactly one title"
    );
    for form in doc.select(&sel("form[action]")) {
        let action = form.value().attr("action").unwrap_or_default();
        assert!(
            action.starts_with('/') && !action.starts_with("//"),
            "{path}: a form posts off the site: {action}"
        );
    }
    doc
}

fn title(doc: &Html) -> String {
    doc.select(&sel("title"))
        .next()
        .map(text_of)
        .unwrap_or_default()
}

fn first_text(doc: &Html, css: &str) -> String {
    doc.select(&sel(css))
        .next()
        .map(text_of)
        .unwrap_or_else(|| panic!("no element {css}"))
}

fn attr(doc: &Html, css: &str, name: &str) -> String {
    doc.select(&sel(css))
        .next()
        .and_then(|e| e.value().attr(name).map(str::to_owned))
        .unwrap_or_else(|| panic!("no {name} on {css}"))
}

async fn scalar(app: &TestApp, sql: &str, bind: &str) -> String {
    sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_one(app.db.reader())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn assert_ok(res: &reqwest::Response, what: &str) {
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "{what}: {}",
        res.status()
    );
}

#[tokio::test]
async fn hostile_text_in_every_field_is_shown_as_text_and_injects_nothing() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let admin = app.browser();
    app.admin(&admin).await;

    // A shopper with a hostile display name and a hostile address.
    let shopper = app.browser();
    let display_name = hostile("Mallory");
    app.register(&shopper, &display_name, "mallory@example.com", PASSWORD)
        .await;
    let address: Vec<(&str, String)> = vec![
        ("full_name", hostile("Name")),
        ("line1", hostile("Line1")),
        ("line2", hostile("Line2")),
        ("city", hostile("City")),
        ("region", hostile("Region")),
        ("postal_code", "1011 AB".to_owned()),
        ("country", "NL".to_owned()),
        ("phone", "+31 20 123 4567".to_owned()),
    ];
    let form: Vec<(&str, &str)> = address.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = app.call(&shopper, "account/save-address", &form).await;
    assert_ok(&res, "save address");

    // A category and a product with hostile names, descriptions, attributes and options.
    let category_name = hostile("Cat");
    let category_description = hostile("About");
    let res = app
        .call(
            &admin,
            "admin/category-create",
            &[
                ("name", &category_name),
                ("slug", "hostile-things"),
                ("description", &category_description),
                ("parent_id", ""),
                ("position", "0"),
            ],
        )
        .await;
    assert_ok(&res, "create category");
    let category_id = scalar(
        &app,
        "SELECT id FROM categories WHERE slug = $1",
        "hostile-things",
    )
    .await;
    let name = hostile("Pan");
    let brand = hostile("Brand");
    // Inline code is the one way Markdown lets angle brackets through: it must still render
    // as text on the page and come back unchanged in the editor.
    let description = format!("Use `{}` with care.", hostile("Desc"));
    let attribute = hostile("Attr");
    let option = hostile("Opt");
    let seo = hostile("Seo");
    let res = app
        .call(
            &admin,
            "admin/product-create",
            &[
                ("product[name]", &name),
                ("product[slug]", "hostile-pan"),
                ("product[brand]", &brand),
                ("product[category_id]", &category_id),
                ("product[description]", &description),
                ("product[attributes]", &format!("material: {attribute}")),
                ("product[seo_description]", &seo),
                ("product[featured]", "on"),
                ("variants[0][sku]", "HOSTILE-1"),
                ("variants[0][options]", &format!("colour: {option}")),
                ("variants[0][price]", "12.50"),
                ("variants[0][stock]", "5"),
            ],
        )
        .await;
    assert_ok(&res, "create product");
    let product_id = scalar(
        &app,
        "SELECT id FROM products WHERE slug = $1",
        "hostile-pan",
    )
    .await;
    let res = app
        .call(
            &admin,
            "admin/product-status",
            &[("id", &product_id), ("status", "active")],
        )
        .await;
    assert_ok(&res, "publish");

    // SKUs cannot carry markup at all.
    let res = app
        .call(
            &admin,
            "admin/variant-add",
            &[
                ("product_id", &product_id),
                ("variant[sku]", "<b>X</b>"),
                ("variant[price]", "3"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422, "a SKU with markup is refused");

    // The shopper puts it in the cart.
    let variant_id = scalar(
        &app,
        "SELECT id FROM product_variants WHERE sku = $1",
        "HOSTILE-1",
    )
    .await;
    let res = app
        .call(
            &shopper,
            "cart/add",
            &[("variant_id", &variant_id), ("quantity", "1")],
        )
        .await;
    assert_ok(&res, "add to cart");

    // The shop's pages.
    let doc = page(&app, &shopper, "/p/hostile-pan").await;
    assert_eq!(title(&doc), format!("{name} · Test Shop"));
    assert_eq!(first_text(&doc, "[data-testid=product-name]"), name);
    assert!(first_text(&doc, "[data-testid=description] code").contains(&hostile("Desc")));
    assert!(text_of(doc.root_element()).contains(&attribute));
    assert!(text_of(doc.root_element()).contains(&option));
    let ld: serde_json::Value =
        serde_json::from_str(&first_text(&doc, "script[type=\"application/ld+json\"]"))
            .expect("JSON-LD parses");
    assert_eq!(ld["name"], name.as_str());
    assert_eq!(ld["brand"]["name"], brand.as_str());
    assert_eq!(attr(&doc, "meta[name=description]", "content"), seo);

    let doc = page(&app, &shopper, "/c/hostile-things").await;
    assert_eq!(title(&doc), format!("{category_name} · Test Shop"));
    assert_eq!(first_text(&doc, "h1"), category_name);
    assert!(text_of(doc.root_element()).contains(&category_description));
    assert!(text_of(doc.root_element()).contains(&name));

    let term = "</title><meta http-equiv=\"refresh\" content=\"0;url=https://evil.example/\">";
    let doc = page(
        &app,
        &shopper,
        &format!("/search?q={}", app::url::urlencode(&hostile(term))),
    )
    .await;
    assert!(title(&doc).contains(&hostile(term)), "{}", title(&doc));
    assert!(
        first_text(&doc, "h1").contains(&hostile(term)),
        "the term in the heading"
    );
    // The search on the analytics dashboard (as words: the shop keeps letters and digits).
    for _ in 0..100 {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM analytics_events WHERE kind = 'search'")
                .fetch_one(app.db.reader())
                .await
                .unwrap();
        if n > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let doc = page(&app, &admin, "/admin/analytics/searches?range=today").await;
    assert!(
        text_of(doc.root_element()).contains("title meta http equiv refresh content 0 url"),
        "the search's words are listed"
    );
    let doc = page(&app, &admin, "/admin/analytics/products?range=today").await;
    assert!(
        text_of(doc.root_element()).contains(&name),
        "the viewed product is ranked by its name"
    );

    let doc = page(&app, &shopper, "/cart").await;
    assert!(text_of(doc.root_element()).contains(&name));
    let doc = page(&app, &shopper, "/").await;
    assert!(
        text_of(doc.root_element()).contains(&name),
        "featured on home"
    );

    let doc = page(&app, &shopper, "/account").await;
    assert!(text_of(doc.root_element()).contains(&display_name));
    let doc = page(&app, &shopper, "/account/profile").await;
    assert_eq!(
        attr(&doc, "input[name=display_name]", "value"),
        display_name
    );
    let doc = page(&app, &shopper, "/account/addresses").await;
    for (_, value) in address.iter().take(5) {
        assert!(text_of(doc.root_element()).contains(value.as_str()));
    }
    let address_id = scalar(
        &app,
        "SELECT a.id FROM addresses a JOIN users u ON u.id = a.user_id WHERE u.email = $1",
        "mallory@example.com",
    )
    .await;
    let doc = page(&app, &shopper, &format!("/account/addresses/{address_id}")).await;
    for (field, value) in address.iter().take(5) {
        assert_eq!(&attr(&doc, &format!("input[name={field}]"), "value"), value);
    }

    // The admin's pages.
    let user_id = scalar(
        &app,
        "SELECT id FROM users WHERE email = $1",
        "mallory@example.com",
    )
    .await;
    let doc = page(&app, &admin, &format!("/admin/users/{user_id}")).await;
    assert!(title(&doc).starts_with(&display_name), "{}", title(&doc));
    let doc = page(&app, &admin, "/admin/users").await;
    assert!(text_of(doc.root_element()).contains(&display_name));

    let doc = page(&app, &admin, &format!("/admin/products/{product_id}")).await;
    assert!(title(&doc).contains(&name), "{}", title(&doc));
    assert_eq!(
        first_text(&doc, "textarea#product-description"),
        description
    );
    assert_eq!(
        first_text(&doc, "textarea#product-attributes"),
        format!("material: {attribute}")
    );
    assert_eq!(attr(&doc, "input[name=\"product[name]\"]", "value"), name);
    assert!(
        doc.select(&sel("input"))
            .any(|i| i.value().attr("value") == Some(&format!("colour: {option}"))),
        "the variant's options in their field"
    );
    let doc = page(
        &app,
        &admin,
        &format!("/admin/products?q={}", app::url::urlencode(&hostile("Pan"))),
    )
    .await;
    assert_eq!(attr(&doc, "input#products-q", "value"), hostile("Pan"));
    assert!(text_of(doc.root_element()).contains(&name), "found by name");

    let doc = page(&app, &admin, &format!("/admin/categories/{category_id}")).await;
    assert_eq!(
        first_text(&doc, "textarea#cat-description"),
        category_description
    );
    assert_eq!(attr(&doc, "input[name=name]", "value"), category_name);
    let doc = page(&app, &admin, "/admin/categories").await;
    assert!(text_of(doc.root_element()).contains(&category_name));
    page(&app, &admin, "/admin/audit").await;
    page(&app, &admin, "/admin").await;

    // A shipping method with a hostile name, offered at checkout.
    let method = hostile("Ship");
    let res = app
        .call(
            &admin,
            "admin/shipping-method-save",
            &[
                ("id", ""),
                ("name", &method),
                ("price", "3.50"),
                ("free_over", ""),
                ("country_NL", "on"),
                ("min_days", "1"),
                ("max_days", "3"),
                ("active", "on"),
            ],
        )
        .await;
    assert_ok(&res, "save a shipping method");
    let doc = page(&app, &admin, "/admin/shipping").await;
    assert!(text_of(doc.root_element()).contains(&method));
    let method_id = scalar(
        &app,
        "SELECT id FROM shipping_methods WHERE name = $1",
        &method,
    )
    .await;
    let doc = page(&app, &admin, &format!("/admin/shipping/{method_id}")).await;
    assert_eq!(attr(&doc, "input[name=name]", "value"), method);

    // The shopper checks out to the hostile address with the hostile method.
    let res = app
        .call(
            &shopper,
            "checkout/save-details",
            &[("address_id", &address_id), ("billing", "same")],
        )
        .await;
    assert_ok(&res, "checkout details");
    let doc = page(&app, &shopper, "/checkout").await;
    assert!(text_of(doc.root_element()).contains(&hostile("Line1")));
    let doc = page(&app, &shopper, "/checkout/shipping").await;
    assert!(text_of(doc.root_element()).contains(&method));
    assert!(text_of(doc.root_element()).contains(&hostile("City")));
    let res = app
        .call(
            &shopper,
            "checkout/choose-shipping",
            &[("shipping_method", &method_id)],
        )
        .await;
    assert_ok(&res, "choose the hostile method");
    let doc = page(&app, &shopper, "/checkout/review").await;
    let review = text_of(doc.root_element());
    assert!(
        review.contains(&name) && review.contains(&method) && review.contains(&hostile("Name"))
    );
    let reviewed = attr(&doc, "input[name=reviewed]", "value");
    let key = attr(&doc, "input[name=idempotency_key]", "value");
    let res = app
        .call(
            &shopper,
            "checkout/place",
            &[("reviewed", &reviewed), ("idempotency_key", &key)],
        )
        .await;
    assert_ok(&res, "place the order");
    let order_id = scalar(
        &app,
        "SELECT id FROM orders WHERE email = $1",
        "mallory@example.com",
    )
    .await;
    let session = scalar(
        &app,
        "SELECT id FROM offline_payment_sessions WHERE order_id = $1",
        &order_id,
    )
    .await;
    page(&app, &shopper, &format!("/pay/offline/{session}")).await;
    let res = app
        .call(
            &shopper,
            "pay/offline/choose",
            &[("session", session.as_str()), ("choice", "pay")],
        )
        .await;
    assert_ok(&res, "pay offline");
    // Staff ship it, note it and refund part of it, in hostile words.
    let line_id = scalar(
        &app,
        "SELECT id FROM order_lines WHERE order_id = $1",
        &order_id,
    )
    .await;
    let qty = format!("qty_{line_id}");
    let (carrier, tracking) = (hostile("Carrier"), hostile("Track"));
    let res = app
        .call(
            &admin,
            "admin/order-ship",
            &[
                ("order_id", order_id.as_str()),
                ("carrier", carrier.as_str()),
                ("tracking_number", tracking.as_str()),
                ("confirm", "yes"),
                (qty.as_str(), "1"),
            ],
        )
        .await;
    assert_ok(&res, "ship");
    let note = hostile("Note");
    let res = app
        .call(
            &admin,
            "admin/order-note",
            &[("order_id", order_id.as_str()), ("note", note.as_str())],
        )
        .await;
    assert_ok(&res, "note");
    let reason = hostile("Reason");
    let res = app
        .call(
            &admin,
            "admin/order-refund",
            &[
                ("order_id", order_id.as_str()),
                ("extra", "1.00"),
                ("reason", reason.as_str()),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_ok(&res, "refund");
    let doc = page(&app, &admin, &format!("/admin/orders/{order_id}")).await;
    let staff_page = text_of(doc.root_element());
    for needle in [
        &name,
        &carrier,
        &tracking,
        &note,
        &reason,
        &hostile("Line1"),
    ] {
        assert!(
            staff_page.contains(needle.as_str()),
            "the staff's order page shows {needle}"
        );
    }
    for doc in ["packing-slip", "invoice"] {
        let doc = page(&app, &admin, &format!("/admin/orders/{order_id}/{doc}")).await;
        let text = text_of(doc.root_element());
        assert!(text.contains(&name) && text.contains(&hostile("Line1")));
    }
    let doc = page(&app, &shopper, &format!("/account/orders/{order_id}")).await;
    let order = text_of(doc.root_element());
    assert!(!order.contains(&note), "internal notes stay internal");
    for needle in [
        &name,
        &option,
        &method,
        &hostile("Line1"),
        &hostile("Region"),
        &carrier,
        &tracking,
    ] {
        assert!(
            order.contains(needle.as_str()),
            "the order page shows {needle}"
        );
    }
    page(&app, &shopper, "/account/orders").await;
    let doc = page(&app, &admin, "/admin/orders").await;
    assert!(text_of(doc.root_element()).contains("mallory@example.com"));

    // The "order received" mail: its HTML part shows the same text, escaped.
    app.deliver_outbox().await;
    let mail = app
        .last_mail("mallory@example.com", "received")
        .expect("the order received mail");
    let html = &mail[mail.find("<!DOCTYPE html>").expect("an HTML part")..];
    let html = &html[..html.find("</html>").expect("the end of the HTML part") + 7];
    let doc = Html::parse_document(html);
    assert!(
        doc.select(&sel("[data-injected]")).next().is_none(),
        "the mail injects nothing"
    );
    assert!(text_of(doc.root_element()).contains(&name));

    // Every mail of the order's life in the notification log: the list, each message's page
    // and its HTML part show the hostile text, escaped.
    page(&app, &admin, "/admin/notifications").await;
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM notifications WHERE recipient = 'mallory@example.com'")
            .fetch_all(app.db.reader())
            .await
            .unwrap();
    assert!(ids.len() >= 4, "received, paid, shipped, refunded: {ids:?}");
    let mut logged = String::new();
    for id in ids {
        let doc = page(&app, &admin, &format!("/admin/notifications/{id}")).await;
        logged.push_str(&text_of(doc.root_element()));
        let html = app
            .get_with(&admin, &format!("/admin/notifications/{id}/html"))
            .await;
        let doc = Html::parse_document(&html);
        assert!(
            doc.select(&sel("[data-injected]")).next().is_none(),
            "a logged mail injects nothing"
        );
        logged.push_str(&text_of(doc.root_element()));
    }
    for needle in [&name, &carrier, &tracking, &reason, &hostile("Line1")] {
        assert!(logged.contains(needle.as_str()), "the log shows {needle}");
    }

    // An API key's name: on the keys page (as the new key's heading and in the list) and
    // in the audit log.
    let key_name = hostile("Key");
    let res = app
        .post_form(
            &admin,
            "admin/api-key-create",
            "/admin/api-keys",
            &[("name", key_name.as_str()), ("scope_orders_read", "on")],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    for path in ["/admin/api-keys", "/admin/api-keys", "/admin/audit"] {
        let doc = page(&app, &admin, path).await;
        assert!(
            text_of(doc.root_element()).contains(&key_name),
            "{path} shows the key's name"
        );
    }

    // A webhook endpoint's description: on the list and on its page.
    let description = hostile("Hook");
    let res = app
        .post_form(
            &admin,
            "admin/webhook-save",
            "/admin/webhooks",
            &[
                ("id", ""),
                ("url", "https://erp.example.com/hooks"),
                ("description", description.as_str()),
                ("event_order.paid", "on"),
                ("active", "on"),
            ],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let id: String = sqlx::query_scalar("SELECT id FROM webhook_endpoints")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    for path in [
        "/admin/webhooks".to_owned(),
        format!("/admin/webhooks/{id}"),
    ] {
        let doc = page(&app, &admin, &path).await;
        let shown = text_of(doc.root_element());
        let field = doc
            .select(&sel("input[name=description]"))
            .next()
            .and_then(|i| i.value().attr("value").map(str::to_owned));
        assert!(
            shown.contains(&description) || field.as_deref() == Some(description.as_str()),
            "{path} shows the description"
        );
    }
}

/// A field of a form as the browser would submit it.
fn form_fields(form: ElementRef<'_>) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for el in form.select(&sel("input[name], textarea[name], select[name]")) {
        let v = el.value();
        let name = v.attr("name").unwrap_or_default().to_owned();
        match v.name() {
            "input" => {
                let kind = v.attr("type").unwrap_or("text");
                if matches!(kind, "submit" | "button" | "file" | "image" | "reset") {
                    continue;
                }
                if matches!(kind, "checkbox" | "radio") && v.attr("checked").is_none() {
                    continue;
                }
                let default = if kind == "checkbox" { "on" } else { "" };
                fields.push((name, v.attr("value").unwrap_or(default).to_owned()));
            }
            "textarea" => fields.push((name, text_of(el))),
            _ => {
                let options: Vec<ElementRef<'_>> = el.select(&sel("option")).collect();
                let chosen = options
                    .iter()
                    .find(|o| o.value().attr("selected").is_some())
                    .or(options.first());
                if let Some(o) = chosen {
                    let value = o
                        .value()
                        .attr("value")
                        .map(str::to_owned)
                        .unwrap_or_else(|| text_of(*o));
                    fields.push((name, value));
                }
            }
        }
    }
    fields
}

/// Submits, without JavaScript, every form on `path` that posts to one of `endpoints`,
/// exactly as rendered. Returns how many were sent.
async fn resubmit_unchanged(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    endpoints: &[&str],
) -> usize {
    let html = app.get_with(client, path).await;
    let forms: Vec<(String, Vec<(String, String)>)> = {
        let doc = Html::parse_document(&html);
        doc.select(&sel("form[action]"))
            .filter_map(|f| {
                let action = f.value().attr("action")?.strip_prefix("/api/")?.to_owned();
                endpoints
                    .contains(&action.as_str())
                    .then(|| (action, form_fields(f)))
            })
            .collect()
    };
    for (endpoint, fields) in &forms {
        let fields: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let res = app.post_form(client, endpoint, path, &fields).await;
        assert_eq!(res.status(), 302, "{endpoint} from {path}");
        let flash = app.get_with(client, path).await;
        assert!(
            !flash.contains("role=\"alert\""),
            "{endpoint}: the unchanged form was refused"
        );
    }
    forms.len()
}

type ProductRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    String,
    Option<String>,
    Option<String>,
);
type VariantRow = (
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    String,
);

async fn product_state(app: &TestApp, id: &str) -> (ProductRow, Vec<VariantRow>, Vec<String>) {
    let product: ProductRow = sqlx::query_as(
        "SELECT name, slug, description, brand, category_id, status, vendor_id, featured,
                attributes, seo_title, seo_description
         FROM products WHERE id = $1",
    )
    .bind(id)
    .fetch_one(app.db.reader())
    .await
    .expect("product");
    let variants: Vec<VariantRow> = sqlx::query_as(
        "SELECT sku, options, price_minor, compare_at_minor, weight_grams, on_hand,
                low_stock_threshold, status
         FROM product_variants WHERE product_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(app.db.reader())
    .await
    .expect("variants");
    let extra: Vec<String> = sqlx::query_scalar(
        "SELECT category_id FROM product_categories WHERE product_id = $1 ORDER BY category_id",
    )
    .bind(id)
    .fetch_all(app.db.reader())
    .await
    .expect("categories");
    (product, variants, extra)
}

#[tokio::test]
async fn saving_every_editor_form_unchanged_changes_nothing_for_staff_and_vendors() {
    let app = TestApp::spawn().await;
    app.seed().await;
    let admin_client = app.browser();
    let (admin_id, _) = app.admin(&admin_client).await;
    let admin = auth::find(&app.db, &admin_id).await.unwrap().unwrap();

    // A vendor's product, published by the shop, with hostile text in its fields.
    let vendor = app.browser();
    app.register(&vendor, "Vera Vendor", "vera@vendor.test", PASSWORD)
        .await;
    let vera = auth::find_by_email(
        &app.db,
        &shop_core::Email::parse("vera@vendor.test").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    auth::admin::grant_role(&app.db, &app.clock, &admin, &vera.id, auth::Role::Vendor)
        .await
        .unwrap();
    let pans = scalar(&app, "SELECT id FROM categories WHERE slug = $1", "pans").await;
    let knives = scalar(&app, "SELECT id FROM categories WHERE slug = $1", "knives").await;
    let res = app
        .call(
            &vendor,
            "admin/product-create",
            &[
                ("product[name]", &hostile("Vera's Pan")),
                ("product[slug]", "veras-pan"),
                ("product[category_id]", &pans),
                ("product[extra][0]", &knives),
                (
                    "product[description]",
                    &format!("\nFirst line.\n\n`{}`", hostile("d")),
                ),
                ("product[attributes]", &format!("finish: {}", hostile("a"))),
                ("product[seo_title]", "Vera's pan"),
                ("variants[0][sku]", "VERA-1"),
                ("variants[0][options]", "size: 24 cm"),
                ("variants[0][price]", "45.00"),
                ("variants[0][compare_at]", "50"),
                ("variants[0][weight]", "1200"),
                ("variants[0][stock]", "7"),
            ],
        )
        .await;
    assert_ok(&res, "vendor creates");
    let id = scalar(&app, "SELECT id FROM products WHERE slug = $1", "veras-pan").await;
    let res = app
        .call(
            &admin_client,
            "admin/product-status",
            &[("id", &id), ("status", "active")],
        )
        .await;
    assert_ok(&res, "publish");
    let before = product_state(&app, &id).await;
    assert_eq!(before.0.5, "active");
    assert_eq!(before.0.6.as_deref(), Some(vera.id.as_str()));

    let editor = format!("/admin/products/{id}");
    let endpoints = ["admin/product-save", "admin/variant-save"];
    for client in [&vendor, &admin_client] {
        let sent = resubmit_unchanged(&app, client, &editor, &endpoints).await;
        assert_eq!(sent, 2, "the product form and one variant form");
        assert_eq!(product_state(&app, &id).await, before, "nothing changed");
    }
    assert_eq!(app.get("/p/veras-pan").await.status(), 200, "still live");

    // The category editor, with a parent and a description.
    let category = scalar(&app, "SELECT id FROM categories WHERE slug = $1", "pans").await;
    let category_state = || async {
        let row: (String, String, Option<String>, Option<String>, i64) = sqlx::query_as(
            "SELECT name, slug, description, parent_id, position FROM categories WHERE id = $1",
        )
        .bind(&category)
        .fetch_one(app.db.reader())
        .await
        .unwrap();
        row
    };
    let before = category_state().await;
    let sent = resubmit_unchanged(
        &app,
        &admin_client,
        &format!("/admin/categories/{category}"),
        &["admin/category-update"],
    )
    .await;
    assert_eq!(sent, 1);
    assert_eq!(category_state().await, before);
}
