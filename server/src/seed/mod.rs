//! Demo data: a catalog that looks like a real shop (with painted product pictures, see
//! [`picture`]) and an admin account to explore it with; and made-up past activity for the
//! dashboards ([`history`]).

pub mod history;
pub mod picture;

use std::io::BufReader;
use std::path::Path;

use anyhow::Context as _;
use catalog::Catalog;
use shop_core::audit::Actor;
use shop_core::{Clock, Db, Email, ProductId};

/// The demo catalog shipped with the binary: a few dozen products from every department of
/// the shared 10k-product dataset, some sold out and some nearly.
pub const DEMO_CATALOG: &str = include_str!("../../demo/catalog.jsonl");

/// The demo admin's address.
pub const DEMO_ADMIN_EMAIL: &str = "admin@example.com";
/// The demo admin's password unless `DEMO_ADMIN_PASSWORD` sets another.
pub const DEMO_ADMIN_PASSWORD: &str = "demo-admin-password";

/// What [`seed`] should load.
#[derive(Debug, Clone, Default)]
pub struct SeedOptions {
    /// Import this JSONL catalog instead of the built-in demo catalog.
    pub catalog: Option<std::path::PathBuf>,
    /// Do nothing when the shop already has products.
    pub if_empty: bool,
    /// With the built-in demo catalog: give every product without a picture a generated one,
    /// stored in this image folder (`<data>/images`).
    pub demo_images: Option<catalog::ImageStore>,
}

/// Loads the demo (or given) catalog and makes sure the demo admin exists. Idempotent:
/// products are matched by SKU.
pub async fn seed(db: &Db, clock: &Clock, options: &SeedOptions) -> anyhow::Result<()> {
    // The seed's own handle: its writes go through the catalog's API like any other.
    let catalog = Catalog::new(db.clone(), clock.clone(), std::time::Duration::ZERO);
    if options.if_empty {
        let products: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM products")
            .fetch_one(db.reader())
            .await?;
        if products > 0 {
            println!("The shop already has {products} products; leaving them as they are.");
            return Ok(());
        }
    }
    let report = match &options.catalog {
        Some(path) => import_file(&catalog, path).await?,
        None => catalog
            .import_jsonl(&Actor::system("seed"), DEMO_CATALOG.as_bytes())
            .await
            .map_err(describe_import_error)?,
    };
    println!(
        "Catalog: {} products created, {} updated, {} categories created.",
        report.created, report.updated, report.categories_created
    );
    if let (None, Some(store)) = (&options.catalog, &options.demo_images) {
        let added = demo_images(&catalog, store).await?;
        println!("Demo images: {added} generated.");
    }
    let password =
        std::env::var("DEMO_ADMIN_PASSWORD").unwrap_or_else(|_| DEMO_ADMIN_PASSWORD.to_owned());
    let email = Email::parse(DEMO_ADMIN_EMAIL)?;
    auth::create_or_promote_admin(db, clock, &email, "Demo Admin", &password).await?;
    println!("Demo admin: {DEMO_ADMIN_EMAIL}");
    Ok(())
}

/// A product that has no picture yet.
#[derive(sqlx::FromRow)]
struct Unpictured {
    id: String,
    name: String,
    category_id: String,
    attributes: String,
}

/// Gives each product without an image a generated picture, through the same checks and
/// resizing as an upload.
async fn demo_images(catalog: &Catalog, store: &catalog::ImageStore) -> anyhow::Result<usize> {
    let db = catalog.db();
    let products: Vec<Unpictured> = sqlx::query_as(
        "SELECT p.id, p.name, p.category_id, p.attributes FROM products p
         WHERE NOT EXISTS (SELECT 1 FROM product_images i WHERE i.product_id = p.id)
         ORDER BY p.created_at",
    )
    .fetch_all(db.reader())
    .await?;
    let tree = catalog::CategoryTree::load(db).await?;
    let editor = catalog::Editor {
        actor: Actor::system("seed"),
        access: catalog::Access::Shop,
    };
    for Unpictured {
        id,
        name,
        category_id,
        attributes,
    } in &products
    {
        let department = tree
            .path(&catalog::CategoryId::from_db(category_id.clone()))
            .first()
            .map(|c| c.name.clone())
            .unwrap_or_default();
        // The picture shows the product's colour, where it has one.
        let attributes: serde_json::Value =
            serde_json::from_str(attributes).unwrap_or(serde_json::Value::Null);
        let colour = ["color", "colour"]
            .iter()
            .find_map(|k| attributes.get(*k).and_then(|v| v.as_str()));
        let picture = picture::paint(&department, name, colour);
        catalog
            .add_image(
                &editor,
                store,
                &ProductId::from_db(id.clone()),
                picture,
                name,
            )
            .await
            .with_context(|| format!("demo image for {name}"))?;
    }
    Ok(products.len())
}

async fn import_file(
    catalog: &Catalog,
    path: &Path,
) -> anyhow::Result<catalog::import::ImportReport> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    catalog
        .import_jsonl(&Actor::system("seed"), BufReader::new(file))
        .await
        .map_err(describe_import_error)
}

fn describe_import_error(e: catalog::import::ImportError) -> anyhow::Error {
    match e {
        catalog::import::ImportError::InvalidRows(rows) => {
            let mut msg = format!(
                "{} line(s) cannot be imported; nothing was changed:",
                rows.len()
            );
            for r in rows.iter().take(20) {
                msg.push_str(&format!(
                    "\n  line {}{}: {}",
                    r.line,
                    r.sku
                        .as_deref()
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default(),
                    r.message
                ));
            }
            if rows.len() > 20 {
                msg.push_str(&format!("\n  … and {} more", rows.len() - 20));
            }
            anyhow::anyhow!(msg)
        }
        other => anyhow::Error::new(other),
    }
}
