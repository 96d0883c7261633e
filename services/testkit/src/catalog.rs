//! Catalog fixtures: the catalog handle as the admin uses it, an import, product and variant
//! inputs, and the people who edit (an admin and two vendors).

use catalog::products::ProductInput;
use catalog::variants::VariantInput;
use catalog::{Access, Catalog, Editor, ProductStatus};
use shop_core::audit::Actor;
use shop_core::{CategoryId, Clock, Currency, Db, Email, Money, Sku};

/// A price in euros.
pub fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::Eur)
}

/// The catalog as the admin's server functions use it (no read cache).
pub fn catalog(db: &Db, clock: &Clock) -> Catalog {
    Catalog::new(db.clone(), clock.clone(), std::time::Duration::ZERO)
}

/// Imports a JSONL catalog (as the admin's import does), which must be valid.
pub async fn import(db: &Db, clock: &Clock, jsonl: &str) {
    catalog(db, clock)
        .import_jsonl(&Actor::system("test"), jsonl.as_bytes())
        .await
        .expect("import the test catalog");
}

/// A variant in euros with its size named after the SKU.
pub fn variant(sku: &str, price: i64, stock: i64) -> VariantInput {
    VariantInput {
        sku: Sku::parse(sku).expect("a valid SKU"),
        options: vec![("size".to_owned(), sku.to_owned())],
        price: eur(price),
        compare_at: None,
        weight_grams: Some(500),
        low_stock_threshold: 3,
        initial_stock: stock,
        archived: false,
    }
}

/// An active product in a category.
pub fn product(name: &str, category: &CategoryId) -> ProductInput {
    ProductInput {
        name: name.to_owned(),
        description: "Made to **last**.".to_owned(),
        brand: "Fernhill".to_owned(),
        category_id: category.as_str().to_owned(),
        status: Some(ProductStatus::Active),
        attributes: vec![("material".to_owned(), "Linen".to_owned())],
        ..ProductInput::default()
    }
}

/// The shop's admin and two vendors.
pub struct People {
    pub admin: Editor,
    pub vendor_a: Editor,
    pub vendor_b: Editor,
}

pub async fn people(db: &Db, clock: &Clock) -> People {
    let (admin_id, _) = auth::create_or_promote_admin(
        db,
        clock,
        &Email::parse("boss@example.com").unwrap(),
        "Boss",
        "admin-password-1",
    )
    .await
    .expect("admin");
    let admin = auth::users::find(db, &admin_id)
        .await
        .expect("load admin")
        .expect("admin exists");
    let mut vendors = Vec::new();
    for (i, email) in ["a@vendor.test", "b@vendor.test"].into_iter().enumerate() {
        let auth::users::Registered::New(account) = auth::users::register(
            db,
            clock,
            auth::users::Registration {
                email: Email::parse(email).unwrap(),
                display_name: format!("Vendor {i}"),
                password: "vendor-password-1".to_owned(),
                ip: format!("10.0.0.{i}"),
            },
        )
        .await
        .expect("register vendor") else {
            panic!("a new address registers a new account");
        };
        auth::admin::grant_role(db, clock, &admin, &account.id, auth::Role::Vendor)
            .await
            .expect("grant vendor");
        vendors.push(Editor {
            actor: Actor::user(&account.id, email),
            access: Access::Vendor(account.id.clone()),
        });
    }
    let vendor_b = vendors.pop().unwrap();
    let vendor_a = vendors.pop().unwrap();
    People {
        admin: Editor {
            actor: Actor::user(&admin_id, "boss@example.com"),
            access: Access::Shop,
        },
        vendor_a,
        vendor_b,
    }
}

/// A registered customer's account id.
pub async fn customer(db: &Db, clock: &Clock, email: &str) -> shop_core::UserId {
    let auth::users::Registered::New(account) = auth::users::register(
        db,
        clock,
        auth::users::Registration {
            email: Email::parse(email).unwrap(),
            display_name: "Customer".to_owned(),
            password: "customer-password-1".to_owned(),
            ip: "10.0.1.1".to_owned(),
        },
    )
    .await
    .expect("register customer") else {
        panic!("a new address registers a new account");
    };
    account.id
}
