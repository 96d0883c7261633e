//! `TestApp`: starts the real application on port 0 against a fresh database.

use std::collections::HashMap;
use std::time::Duration;

use shop::config::Config;
use shop::startup::Application;
use shop_core::{Db, DbConfig};
use tokio::sync::oneshot;

/// A running application and a client for it.
pub struct TestApp {
    pub address: String,
    pub db: Db,
    pub client: reqwest::Client,
    pub data_dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

/// Options for [`TestApp::spawn_with`].
#[derive(Default)]
pub struct TestOptions {
    /// Extra environment variables for the configuration.
    pub env: Vec<(&'static str, String)>,
    /// Run the in-process outbox worker (off by default so tests drive it themselves).
    pub run_worker: bool,
}

/// Which backend this test run uses.
pub fn postgres_server_url() -> Option<String> {
    std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A URL for a brand-new, empty database on the backend under test.
pub async fn fresh_database_url(data_dir: &std::path::Path) -> String {
    match postgres_server_url() {
        None => format!("sqlite://{}/shop.db", data_dir.display()),
        Some(server) => {
            use sqlx::Connection;
            let name = format!("shop_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::PgConnection::connect(&server)
                .await
                .expect("connect to TEST_POSTGRES_URL");
            sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE \"{name}\"").as_str())
                .await
                .expect("create test database");
            let base = server.rsplit_once('/').map(|(b, _)| b).unwrap_or(&server);
            format!("{base}/{name}")
        }
    }
}

/// Connects to a test database (for tests that need no HTTP server).
pub async fn fresh_db() -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database_url(dir.path()).await;
    let db = Db::connect(&DbConfig::new(url)).await.expect("connect");
    db.migrate().await.expect("migrate");
    (db, dir)
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(TestOptions::default()).await
    }

    pub async fn spawn_with(options: TestOptions) -> TestApp {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let database_url = fresh_database_url(data_dir.path()).await;
        let mut vars: HashMap<String, String> = HashMap::from([
            ("DATABASE_URL".into(), database_url),
            ("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into()),
            (
                "SHOP_DATA_DIR".into(),
                data_dir.path().display().to_string(),
            ),
            ("SHOP_NAME".into(), "Test Shop".into()),
            ("RUN_WORKER".into(), options.run_worker.to_string()),
            ("DATABASE_MAX_CONNECTIONS".into(), "5".into()),
        ]);
        for (k, v) in options.env {
            vars.insert(k.to_owned(), v);
        }
        let config =
            Config::from_lookup(&move |name| vars.get(name).cloned()).expect("test configuration");
        let app = Application::build(config).await.expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let db = app.db().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            let _ = app
                .run_until_stopped(async {
                    let _ = stopped.await;
                })
                .await;
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        TestApp {
            address,
            db,
            client,
            data_dir,
            stop: Some(stop),
            handle: Some(handle),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// Loads the demo catalog.
    pub async fn seed(&self) {
        shop::seed::seed(
            &self.db,
            &shop_core::Clock::system(),
            &shop::seed::SeedOptions::default(),
        )
        .await
        .expect("seed");
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            let _ = handle.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
