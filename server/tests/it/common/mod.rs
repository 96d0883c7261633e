//! `TestApp`: starts the real application on port 0 against a fresh database.

pub mod contract;
pub mod fake_stripe;

use std::collections::HashMap;
use std::time::Duration;

use shop::config::Config;
use shop::startup::Application;
use shop_core::{Clock, Db};
use shop_testkit::TestDatabase;
use tokio::sync::oneshot;

/// A browser's user agent: the test clients' visits count in the analytics as a shopper's do.
pub const BROWSER_USER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

/// What a browser sends as `Accept` when it loads a page.
pub const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// A running application and a client for it.
pub struct TestApp {
    pub address: String,
    pub db: Db,
    pub client: reqwest::Client,
    pub data_dir: tempfile::TempDir,
    /// The application's clock: the wall clock, movable forward with `clock.advance`.
    pub clock: Clock,
    pub config: Config,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
    /// Dropped (on PostgreSQL) after the server is told to stop.
    _database: TestDatabase,
}

/// Options for [`TestApp::spawn_with`].
#[derive(Default)]
pub struct TestOptions {
    /// Extra environment variables for the configuration.
    pub env: Vec<(&'static str, String)>,
    /// Run the in-process outbox worker (off by default so tests drive it themselves).
    pub run_worker: bool,
}

/// Imports a JSONL catalog (as the admin's import does), which must be valid.
pub use shop_testkit::catalog::import as import_catalog;

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(TestOptions::default()).await
    }

    /// [`TestApp::spawn_with`], then imports a JSONL catalog.
    pub async fn with_catalog(options: TestOptions, jsonl: &str) -> TestApp {
        let app = Self::spawn_with(options).await;
        import_catalog(&app.db, &app.clock, jsonl).await;
        app
    }

    pub async fn spawn_with(options: TestOptions) -> TestApp {
        // TEST_LOG=<filter> prints the server's log with each test's output.
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
        let data_dir = tempfile::tempdir().expect("temp dir");
        let database = TestDatabase::create(data_dir.path()).await;
        let mut vars: HashMap<String, String> = HashMap::from([
            ("DATABASE_URL".into(), database.url.clone()),
            ("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into()),
            (
                "SHOP_DATA_DIR".into(),
                data_dir.path().display().to_string(),
            ),
            ("SHOP_NAME".into(), "Test Shop".into()),
            ("RUN_WORKER".into(), options.run_worker.to_string()),
            ("DATABASE_MAX_CONNECTIONS".into(), "5".into()),
            // Well under the client's 30 s: a stuck request fails as a 503 with its log.
            ("REQUEST_TIMEOUT_SECS".into(), "10".into()),
            // Every test client is 127.0.0.1: the rate limit has its own test.
            ("RATE_LIMIT_PER_MINUTE".into(), "0".into()),
        ]);
        for (k, v) in options.env {
            vars.insert(k.to_owned(), v);
        }
        let config =
            Config::from_lookup(&move |name| vars.get(name).cloned()).expect("test configuration");
        let kept_config = config.clone();
        let clock = Clock::shifted();
        let app = Application::build_with_clock(config, clock.clone())
            .await
            .expect("build app");
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
            .user_agent(BROWSER_USER_AGENT)
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
            clock,
            config: kept_config,
            stop: Some(stop),
            handle: Some(handle),
            _database: database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("accept", BROWSER_ACCEPT)
            .send()
            .await
            .expect("GET")
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

    /// The HTML of a page as `client` sees it (status 200 expected).
    pub async fn get_with(&self, client: &reqwest::Client, path: &str) -> String {
        let res = client
            .get(self.url(path))
            .header("accept", BROWSER_ACCEPT)
            .send()
            .await
            .expect("GET");
        assert_eq!(res.status(), 200, "GET {path}");
        res.text().await.expect("body")
    }

    /// A new browser: its own cookie jar, redirects not followed.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .user_agent(BROWSER_USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client")
    }

    /// Calls a server function the way the hydrated page does (fetch, same origin).
    pub async fn call(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(self.url(&format!("/api/{endpoint}")))
            .header("origin", &self.address)
            .header("sec-fetch-site", "same-origin")
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("server function call")
    }

    /// Posts a plain HTML form (JavaScript off) from the page `referer`.
    pub async fn post_form(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        referer: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(self.url(&format!("/api/{endpoint}")))
            .header("origin", &self.address)
            .header("referer", self.url(referer))
            .header("accept", "text/html,application/xhtml+xml")
            .form(form)
            .send()
            .await
            .expect("form post")
    }

    /// Runs the outbox worker until nothing is due (sends the queued mail).
    pub async fn deliver_outbox(&self) {
        let worker =
            shop::startup::outbox_worker(&self.config, self.db.clone(), self.clock.clone())
                .expect("worker");
        for _ in 0..20 {
            if worker.run_once().await.expect("worker round").is_empty() {
                return;
            }
        }
        panic!("the outbox did not drain");
    }

    /// Every mail written so far (decoded text), oldest first.
    pub fn mails(&self) -> Vec<String> {
        let dir = self.data_dir.path().join("mail");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut files: Vec<(std::time::SystemTime, String)> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .map(|e| {
                let modified = e.metadata().and_then(|m| m.modified()).expect("mtime");
                let raw = std::fs::read_to_string(e.path()).expect("read mail");
                (modified, decode_quoted_printable(&raw))
            })
            .collect();
        files.sort_by_key(|(t, _)| *t);
        files.into_iter().map(|(_, m)| m).collect()
    }

    /// The newest mail to `to` containing `needle`.
    pub fn last_mail(&self, to: &str, needle: &str) -> Option<String> {
        self.mails()
            .into_iter()
            .rev()
            .find(|m| m.contains(&format!("To: {to}")) && m.contains(needle))
    }

    /// The token in the newest mail to `to` with a link to `path` (e.g. `/verify-email`).
    pub fn token_from_mail(&self, to: &str, path: &str) -> String {
        let needle = format!("{path}?token=");
        let mail = self
            .last_mail(to, &needle)
            .unwrap_or_else(|| panic!("no mail to {to} with {needle}"));
        let start = mail.find(&needle).expect("link") + needle.len();
        mail[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }

    /// Registers an account as a shopper does: signs up in `client`, then opens the link from
    /// the welcome mail there, which confirms the address and signs `client` in.
    pub async fn register(
        &self,
        client: &reqwest::Client,
        name: &str,
        email: &str,
        password: &str,
    ) {
        self.sign_up(client, name, email, password).await;
        self.deliver_outbox().await;
        let token = self.token_from_mail(&email.to_lowercase(), "/verify-email");
        let res = self
            .call(client, "account/verify-email", &[("token", &token)])
            .await;
        assert_eq!(res.status(), 200, "verify: {:?}", res.text().await);
    }

    /// Sends the sign-up form only (the account waits for its link; nobody is signed in).
    pub async fn sign_up(
        &self,
        client: &reqwest::Client,
        name: &str,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        let res = self
            .call(
                client,
                "account/register",
                &[
                    ("display_name", name),
                    ("email", email),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(res.status(), 200, "register: {:?}", res.headers());
        res
    }

    /// Signs in; returns the response.
    pub async fn login(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        self.call(
            client,
            "account/login",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Creates a verified admin and signs `client` in as them.
    pub async fn admin(&self, client: &reqwest::Client) -> (auth::UserId, String) {
        let email = "boss@example.com";
        let (id, _) = auth::create_or_promote_admin(
            &self.db,
            &self.clock,
            &shop_core::Email::parse(email).unwrap(),
            "Boss",
            "admin-password-1",
        )
        .await
        .expect("create admin");
        let res = self.login(client, email, "admin-password-1").await;
        assert_eq!(res.status(), 200, "admin login: {:?}", res.text().await);
        (id, email.to_owned())
    }

    /// Registers `email` (signed in on a new browser) and makes them a vendor, as `admin`;
    /// returns the browser and the account's id.
    pub async fn vendor(&self, admin: &auth::Account, email: &str) -> (reqwest::Client, String) {
        let client = self.browser();
        self.register(&client, "Vendor", email, "correct horse battery")
            .await;
        let account = auth::find_by_email(&self.db, &shop_core::Email::parse(email).unwrap())
            .await
            .unwrap()
            .unwrap();
        auth::admin::grant_role(
            &self.db,
            &self.clock,
            admin,
            &account.id,
            auth::Role::Vendor,
        )
        .await
        .unwrap();
        (client, account.id.as_str().to_owned())
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

/// Decodes quoted-printable (soft line breaks and `=XX` escapes) well enough to read links.
pub fn decode_quoted_printable(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
