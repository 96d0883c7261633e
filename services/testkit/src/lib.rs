//! Test support shared by the crates' tests (a dev-dependency only; never in the binary).
//!
//! [`fresh_db`] gives a test a database of its own on the backend under test: SQLite in a
//! temporary folder by default, or, when `TEST_POSTGRES_URL` names a PostgreSQL server, a new
//! database on it. Either goes away when the test ends: the folder is deleted, the PostgreSQL
//! database dropped. The helpers below read the ids tests look up by SKU or slug, and
//! [`catalog`] has the catalog's fixtures.

pub mod catalog;

use std::path::Path;

use shop_core::{CategoryId, Db, DbConfig, ProductId, VariantId};

/// The PostgreSQL server the tests run against, if any (`TEST_POSTGRES_URL`).
pub fn postgres_server_url() -> Option<String> {
    std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A database made for one test: its URL, and on PostgreSQL the database to drop when the
/// test is done with it.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A new, empty database on the backend under test. On SQLite the file is `shop.db` in
    /// `data_dir`, which the caller keeps for as long as the test runs.
    pub async fn create(data_dir: &Path) -> TestDatabase {
        let Some(server) = postgres_server_url() else {
            return TestDatabase {
                url: format!("sqlite://{}/shop.db", data_dir.display()),
                postgres: None,
            };
        };
        use sqlx::Connection as _;
        let name = format!("shop_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&server)
            .await
            .expect("connect to TEST_POSTGRES_URL");
        sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .expect("create test database");
        let _ = conn.close().await;
        let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
        TestDatabase {
            url: format!("{base}/{name}"),
            postgres: Some((server.clone(), name)),
        }
    }
}

impl Drop for TestDatabase {
    /// Drops the PostgreSQL database, ending any connection a test left open (`FORCE`). Runs
    /// on a thread of its own: `drop` cannot wait on the test's runtime.
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else {
            return;
        };
        let dropped = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                use sqlx::Connection as _;
                let mut conn = sqlx::PgConnection::connect(&server)
                    .await
                    .map_err(|e| e.to_string())?;
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                sqlx::Executor::execute(&mut conn, sql.as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                conn.close().await.map_err(|e| e.to_string())
            })
        })
        .join();
        // A database left behind is harmless in a throwaway cluster: say so, do not fail.
        let outcome = dropped.unwrap_or_else(|_| Err("the dropping thread panicked".to_owned()));
        if let Err(e) = outcome {
            eprintln!("could not drop a test database: {e}");
        }
    }
}

/// What keeps a test's database alive: its folder and, on PostgreSQL, the database itself.
/// Drop it last (bind it as `_scratch`, not `_`).
#[derive(Debug)]
pub struct Scratch {
    // Dropped in this order: the PostgreSQL database, then the folder.
    _database: TestDatabase,
    dir: tempfile::TempDir,
}

impl Scratch {
    /// The test's own folder: files a test writes (images, mail) go here and go with it.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A connected, migrated database of the test's own (see the crate docs).
pub async fn fresh_db() -> (Db, Scratch) {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = TestDatabase::create(dir.path()).await;
    let db = Db::connect(&DbConfig::new(database.url.clone()))
        .await
        .expect("connect");
    db.migrate().await.expect("migrate");
    (
        db,
        Scratch {
            _database: database,
            dir,
        },
    )
}

/// The single number a query returns (`SELECT COUNT(*) ...`).
pub async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(db.reader())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs a statement that takes no parameters (a test setting up a state by hand).
pub async fn exec(db: &Db, sql: &str) {
    let mut tx = db.begin().await.expect("begin");
    sqlx::query(sql)
        .execute(&mut *tx)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    tx.commit().await.expect("commit");
}

async fn id_where(db: &Db, sql: &str, key: &str) -> String {
    sqlx::query_scalar(sql)
        .bind(key)
        .fetch_one(db.reader())
        .await
        .unwrap_or_else(|e| panic!("{sql} [{key}]: {e}"))
}

/// The variant with this SKU.
pub async fn variant_id(db: &Db, sku: &str) -> VariantId {
    VariantId::from_db(id_where(db, "SELECT id FROM product_variants WHERE sku = $1", sku).await)
}

/// The product with this slug.
pub async fn product_id(db: &Db, slug: &str) -> ProductId {
    ProductId::from_db(id_where(db, "SELECT id FROM products WHERE slug = $1", slug).await)
}

/// The category with this slug.
pub async fn category_id(db: &Db, slug: &str) -> CategoryId {
    CategoryId::from_db(id_where(db, "SELECT id FROM categories WHERE slug = $1", slug).await)
}
