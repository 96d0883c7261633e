//! Builds the application from configuration: database, mailer, router, worker.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context as _;
use app::ssr::{ServerContext, ShopSettings};
use axum::Router;
use axum::routing::get;
use leptos::config::LeptosOptions;
use leptos::prelude::{provide_context, with_context};
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use shop_core::mail::Mailer;
use shop_core::outbox::{Both, Kinds, Worker, WorkerConfig};
use shop_core::{Clock, Db, DbConfig};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceBuilder;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::config::{Config, MailTransport};
use crate::metrics::Metrics;
use crate::middleware::{self, HeaderPolicy, OriginPolicy};
use crate::routes;
use crate::state::AppState;

/// Connects to the database (creating an SQLite file if needed) and applies migrations.
pub async fn connect_and_migrate(config: &Config) -> anyhow::Result<Db> {
    let mut db_config = DbConfig::new(config.database_url.expose());
    db_config.max_connections = config.database_max_connections;
    let db = Db::connect(&db_config)
        .await
        .context("cannot open the database (DATABASE_URL)")?;
    db.migrate()
        .await
        .context("cannot apply database migrations")?;
    Ok(db)
}

/// The mailer the configuration asks for.
/// The checkout: Stripe when configured, the offline provider otherwise; its keys, and the
/// default shipping methods on a shop's first start.
pub async fn checkout_service(
    config: &Config,
    db: &Db,
    clock: &Clock,
) -> anyhow::Result<checkout::Checkout> {
    let keys = checkout::Keys::load(db, clock)
        .await
        .context("cannot read the checkout keys")?;
    let provider: Arc<dyn checkout::PaymentProvider> = match &config.stripe {
        Some(stripe) => Arc::new(
            checkout::stripe::StripeProvider::new(&stripe.api_base, stripe.secret_key.expose())
                .map_err(|e| anyhow::anyhow!("STRIPE_API_BASE: {e}"))?,
        ),
        None => Arc::new(checkout::payment::OfflineProvider::new(
            db.clone(),
            clock.clone(),
            config.public_url.clone(),
        )),
    };
    let mut settings = checkout::Settings::new(config.public_url.clone());
    settings.vat_rate_bp = config.vat_rate_bp;
    settings.hold = config.checkout_hold;
    settings.webhook_secrets = config
        .webhook_secrets
        .iter()
        .map(|s| s.expose().to_owned())
        .collect();
    let countries: Vec<&str> = auth::addresses::COUNTRIES.iter().map(|(c, _)| *c).collect();
    checkout::shipping::ensure_defaults(db, clock, config.currency, &countries)
        .await
        .context("cannot create the default shipping methods")?;
    Ok(checkout::Checkout::new(
        db.clone(),
        clock.clone(),
        provider,
        settings,
        keys,
    ))
}

pub fn mailer(config: &Config) -> anyhow::Result<Mailer> {
    let from = Mailer::parse_from(&config.mail_from)?;
    Ok(match &config.mail {
        MailTransport::File(dir) => Mailer::file(dir, from)?,
        MailTransport::Smtp(url) => Mailer::smtp(url.expose(), from)?,
    })
}

/// What the mails show.
fn mail_shop(config: &Config) -> notifications::ShopInfo {
    notifications::ShopInfo {
        name: config.shop_name.clone(),
        base_url: config.public_url.clone(),
        colour: config.brand_colour.clone(),
        staff_email: Some(config.staff_email.clone()),
    }
}

/// What the outbox worker does with each event: the mails and notifications, the analytics
/// of payments and refunds, then the outbound webhooks.
pub type EventHandlers = Both<
    Both<notifications::EventHandler, analytics::OrderEvents>,
    notifications::webhooks::Webhooks,
>;

/// The webhooks' HTTP client, with the configured address policy.
pub fn webhook_sender(config: &Config) -> anyhow::Result<notifications::webhooks::Sender> {
    notifications::webhooks::Sender::new(notifications::webhooks::Policy {
        allow_loopback: config.webhook_allow_loopback,
    })
    .map_err(|e| anyhow::anyhow!("webhook client: {e}"))
}

/// The outbox's two workers: one for the shop's events (mail, analytics, and the webhooks'
/// fan-out), one for webhook deliveries, so a slow or dead receiver never holds up mail,
/// and deliveries get a retry budget of their own (hours, not minutes).
pub struct Workers {
    pub events: Worker<EventHandlers>,
    pub deliveries: Worker<notifications::webhooks::Webhooks>,
}

impl Workers {
    /// Runs both until `shutdown` turns true.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let events = tokio::spawn(self.events.run(shutdown.clone()));
        let deliveries = tokio::spawn(self.deliveries.run(shutdown));
        let _ = events.await;
        let _ = deliveries.await;
    }

    /// One batch of each (the tests drive the outbox with this).
    pub async fn run_once(
        &self,
    ) -> Result<Vec<(shop_core::outbox::EventId, shop_core::outbox::Outcome)>, sqlx::Error> {
        let mut done = self.events.run_once().await?;
        done.extend(self.deliveries.run_once().await?);
        Ok(done)
    }
}

/// The periodic jobs: housekeeping, the payment sweeper (unpaid orders whose payment window
/// closed are checked with the provider, then expired) and the analytics roll-ups. Each runs
/// in one process of a cluster at a time, the holder of its lease (see
/// [`shop_core::leases`]); a process that dies hands its jobs over when its leases expire.
#[derive(Clone, Debug)]
pub struct PeriodicJobs {
    db: Db,
    clock: Clock,
    checkout: checkout::Checkout,
    analytics: analytics::Analytics,
    leases: shop_core::leases::Leases,
}

/// The periodic jobs' names (their leases' keys).
pub const JOBS: [&str; 3] = ["housekeeping", "payments", "analytics"];

impl PeriodicJobs {
    /// The jobs of this process (`role`: "serve" or "worker", part of its lease holder name).
    pub fn new(
        config: &Config,
        db: &Db,
        clock: &Clock,
        checkout: checkout::Checkout,
        analytics: analytics::Analytics,
        role: &str,
    ) -> PeriodicJobs {
        PeriodicJobs {
            leases: shop_core::leases::Leases::new(
                db.clone(),
                clock.clone(),
                shop_core::leases::Leases::process_name(role),
                config.job_lease,
            ),
            analytics,
            db: db.clone(),
            clock: clock.clone(),
            checkout,
        }
    }

    /// Runs each job while this process holds its lease, until `stop` turns true; then gives
    /// the leases back.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let PeriodicJobs {
            db,
            clock,
            checkout,
            analytics,
            leases,
        } = self;
        let [housekeeping, payments, roll_up] = JOBS;
        tokio::join!(
            leases.clone().run(housekeeping, stop.clone(), |s| {
                crate::housekeeping::run(db.clone(), clock.clone(), s)
            }),
            leases
                .clone()
                .run(payments, stop.clone(), |s| checkout::lapse::run(
                    checkout.clone(),
                    s
                )),
            leases.run(roll_up, stop, |s| {
                crate::housekeeping::analytics_roll_up(analytics.clone(), s)
            }),
        );
    }
}

/// `shop worker`: the outbox workers and the periodic jobs, without serving, until SIGTERM.
pub async fn run_worker(config: &Config) -> anyhow::Result<()> {
    let db = connect_and_migrate(config).await?;
    let clock = Clock::system();
    let workers = outbox_worker(config, db.clone(), clock.clone())?;
    let checkout = checkout_service(config, &db, &clock).await?;
    let analytics = analytics::Analytics::new(db.clone(), clock.clone(), config.analytics.clone());
    let jobs = PeriodicJobs::new(config, &db, &clock, checkout, analytics, "worker");
    let (tx, rx) = watch::channel(false);
    let workers = tokio::spawn(workers.run(rx.clone()));
    let jobs = tokio::spawn(jobs.run(rx));
    shutdown_signal().await;
    let _ = tx.send(true);
    let _ = workers.await;
    let _ = jobs.await;
    db.close().await;
    Ok(())
}

/// Attempts at one webhook delivery: with pauses doubling from 5 s up to an hour, about
/// nine hours in all.
pub const WEBHOOK_ATTEMPTS: i64 = 18;

/// The outbox workers with the shop's event handlers.
pub fn outbox_worker(config: &Config, db: Db, clock: Clock) -> anyhow::Result<Workers> {
    let deliver: &'static [&'static str] = &[notifications::webhooks::DELIVER];
    let worker = WorkerConfig {
        kinds: Kinds::Except(deliver),
        ..WorkerConfig::default()
    };
    let mail = notifications::EventHandler::new(
        db.clone(),
        clock.clone(),
        mailer(config)?,
        mail_shop(config),
        worker.max_attempts,
    );
    let analytics = analytics::OrderEvents(analytics::Analytics::new(
        db.clone(),
        clock.clone(),
        config.analytics.clone(),
    ));
    let webhooks = notifications::webhooks::Webhooks::new(
        db.clone(),
        clock.clone(),
        webhook_sender(config)?,
        WEBHOOK_ATTEMPTS,
    );
    let deliveries = WorkerConfig {
        kinds: Kinds::Only(deliver),
        max_attempts: WEBHOOK_ATTEMPTS,
        max_backoff: std::time::Duration::from_secs(3600),
        ..WorkerConfig::default()
    };
    Ok(Workers {
        events: Worker::new(
            db.clone(),
            clock.clone(),
            Both(Both(mail, analytics), webhooks.clone()),
            worker,
        ),
        deliveries: Worker::new(db, clock, webhooks, deliveries),
    })
}

fn leptos_options(config: &Config) -> LeptosOptions {
    // cargo-leptos writes hash.txt beside the server binary when it builds hashed asset
    // names; without it the plain names are served.
    let hash_files = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt").exists()))
        .unwrap_or(false);
    LeptosOptions::builder()
        .output_name("shop")
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.site_addr)
        .hash_files(hash_files)
        .build()
}

/// The application's page routes, worked out once per process.
///
/// Leptos lists the routes by rendering the app with resource loading switched off, and
/// that switch is a process-wide flag: a page rendered by another `Application` in the same
/// process meanwhile (the integration tests run several) would never load its resources and
/// hang. Listing the routes once, before any application serves, keeps renders and listing
/// apart.
fn page_routes() -> &'static [AxumRouteListing] {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App))
}

/// The path of every page route, parameters as the router writes them (`{slug}`).
pub fn page_paths() -> Vec<String> {
    page_routes().iter().map(|r| r.path().to_owned()).collect()
}

/// The full router: health and metrics endpoints, hashed assets, pages and server functions,
/// and the middleware stack around them.
pub fn router(config: &Config, state: AppState) -> Router {
    let ctx = state.ctx.clone();
    let leptos_options = state.leptos_options.clone();
    let routes = page_routes().to_vec();
    let pkg_dir = format!(
        "{}/{}",
        leptos_options.site_root, leptos_options.site_pkg_dir
    );

    // A guest's session is anchored to their cart: when housekeeping deletes a stale guest
    // cart, the session that held it ends too.
    let store = auth::sessions::DbStore::new(ctx.db.clone(), ctx.clock.clone())
        .anchored_by(app::cart::GUEST_CART_KEY);
    // The __Host- prefix makes browsers insist on Secure, Path=/ and no Domain.
    let session_cookie = if config.behind_tls() {
        "__Host-shop_session"
    } else {
        "shop_session"
    };
    let sessions = SessionManagerLayer::new(store)
        .with_name(session_cookie)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.behind_tls())
        .with_path("/")
        // Guests keep their session (and later their cart) for 30 days of inactivity; signing in
        // sets the timeout of the user's role.
        .with_expiry(Expiry::OnInactivity(time::Duration::days(30)));

    let settings = ctx.shop.clone();
    let page_cache = crate::page_cache::PageCache::new(config.catalog_cache_ttl / 2, ctx.clone());
    let frame_ctx = ctx.clone();
    let events_ctx = ctx.clone();
    let context = move || {
        provide_context(ctx.clone());
        // The render's script nonce from `page_policy`, after leptos_axum's own: the page's
        // policy allows the inline scripts that carry it.
        if let Some(nonce) = with_context::<http::request::Parts, _>(|parts| {
            parts
                .extensions
                .get::<middleware::PageNonce>()
                .map(|n| n.0.clone())
        })
        .flatten()
        {
            provide_context(nonce);
        }
    };
    // Admin uploads read bodies up to MAX_UPLOAD_BYTES, and only after the sender is known to
    // be an admin or vendor; everything else keeps the small MAX_BODY_BYTES limit.
    let uploads = crate::uploads::routes()
        .merge(crate::mail_view::routes())
        .layer(RequestBodyLimitLayer::new(config.max_upload_bytes))
        .layer(axum::extract::DefaultBodyLimit::max(
            config.max_upload_bytes,
        ));
    let pages = Router::new()
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = leptos_options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, app::shell))
        .layer(axum::middleware::from_fn(middleware::own_task))
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            config.max_body_bytes,
            middleware::server_fn_body,
        ))
        .layer(axum::middleware::from_fn(middleware::private_pages))
        .layer(axum::middleware::from_fn_with_state(
            settings,
            middleware::page_policy,
        ))
        .layer(axum::middleware::from_fn_with_state(
            frame_ctx,
            crate::frame::fill,
        ))
        .layer(axum::middleware::from_fn(middleware::long_page_paths))
        .layer(axum::middleware::from_fn_with_state(
            page_cache,
            crate::page_cache::serve,
        ))
        .layer(axum::middleware::from_fn_with_state(
            events_ctx,
            crate::page_events::record,
        ))
        .merge(uploads);

    let assets = Router::new().nest_service(
        "/pkg",
        ServeDir::new(pkg_dir)
            .precompressed_br()
            .precompressed_gzip(),
    );
    // Product images are named by a hash of their content: a URL never changes meaning.
    // From local disk, or read from the bucket by whichever instance is asked.
    let assets = match state.ctx.images.dir() {
        Some(dir) => assets.nest_service("/images", ServeDir::new(dir)),
        None => assets.route("/images/{name}", get(routes::image)),
    };
    let assets = assets
        .layer(axum::middleware::from_fn(middleware::immutable_cache))
        .layer(axum::middleware::from_fn(middleware::file_names));

    let header_policy = Arc::new(HeaderPolicy {
        hsts: config.behind_tls(),
    });
    let mut trusted = config.trusted_origins.clone();
    trusted.push(config.public_url.clone());
    let origin_policy = Arc::new(OriginPolicy {
        trusted,
        payment_pages: if config.stripe.is_some() {
            vec!["checkout.stripe.com".to_owned()]
        } else {
            Vec::new()
        },
    });

    let api = Router::new()
        .nest(
            crate::api::BASE,
            crate::api::router(
                &state,
                crate::api::access::Limits {
                    per_client: middleware::RateLimit::per_minute(config.rate_limit_per_minute),
                    per_credential: middleware::RateLimit::per_minute(
                        config.api_rate_limit_per_minute,
                    ),
                },
                &config.api_cors_origins,
                config.request_timeout,
            ),
        )
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            config.trust_proxy,
            middleware::client_ip,
        ));
    let api = outer_layers(api, &state, header_policy.clone(), config.request_timeout);

    let site = Router::new()
        .route("/health", get(routes::health))
        .route("/ready", get(routes::ready))
        .route("/metrics", get(routes::metrics))
        .route("/sitemap.xml", get(routes::sitemap))
        .route("/robots.txt", get(routes::robots))
        // Stripe (and the offline provider) post here: no session, no form check; the
        // signature over the raw body is the check.
        .route(
            "/webhooks/stripe",
            axum::routing::post(routes::stripe_webhook),
        )
        .merge(assets)
        .merge(
            pages
                .layer(axum::middleware::from_fn_with_state(
                    origin_policy.clone(),
                    middleware::form_posts,
                ))
                .layer(sessions)
                .layer(axum::middleware::from_fn_with_state(
                    middleware::RateLimit::per_minute(config.rate_limit_per_minute),
                    middleware::rate_limit,
                ))
                .layer(axum::middleware::from_fn_with_state(
                    config.trust_proxy,
                    middleware::client_ip,
                )),
        )
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            origin_policy,
            middleware::cross_origin_guard,
        ));
    api.merge(outer_layers(
        site,
        &state,
        header_policy,
        config.request_timeout,
    ))
}

/// The layers every answer passes through, outermost first: its request id, the metrics,
/// the security headers, compression and the time limit.
fn outer_layers(
    router: Router,
    state: &AppState,
    header_policy: Arc<HeaderPolicy>,
    timeout: std::time::Duration,
) -> Router {
    router.layer(
        ServiceBuilder::new()
            .layer(axum::middleware::from_fn(middleware::request_id))
            .layer(axum::middleware::from_fn_with_state(
                state.metrics.clone(),
                crate::metrics::record,
            ))
            .layer(axum::middleware::from_fn_with_state(
                header_policy,
                middleware::security_headers,
            ))
            .layer(CompressionLayer::new().quality(CompressionLevel::Precise(5)))
            .layer(TimeoutLayer::with_status_code(
                http::StatusCode::SERVICE_UNAVAILABLE,
                timeout,
            )),
    )
}

/// A built, bound, not yet running application.
pub struct Application {
    listener: TcpListener,
    router: Router,
    db: Db,
    /// The outbox workers and periodic jobs, when this instance runs them (`RUN_WORKER`).
    worker: Option<(Workers, PeriodicJobs)>,
    analytics: analytics::Analytics,
    catalog: catalog::Catalog,
    signals: shop_core::signals::Signals,
    draining: Arc<std::sync::atomic::AtomicBool>,
    drain_delay: std::time::Duration,
    limits: ConnectionLimits,
}

/// How long connections may take, from the configuration.
#[derive(Clone, Copy, Debug)]
struct ConnectionLimits {
    /// A connection that has not sent its request headers in this time is closed.
    header_read: std::time::Duration,
    /// After shutdown starts, how long requests in flight may take to finish.
    drain: std::time::Duration,
}

impl Application {
    /// Connects, migrates, builds the router and binds `LEPTOS_SITE_ADDR` (port 0 picks a free
    /// port, as tests do).
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        Self::build_with_clock(config, Clock::system()).await
    }

    /// [`Application::build`] with the given clock (tests move time forward).
    pub async fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<Application> {
        let db = connect_and_migrate(&config).await?;
        auth::password::warm_up().await;
        let checkout = checkout_service(&config, &db, &clock).await?;
        let analytics =
            analytics::Analytics::new(db.clone(), clock.clone(), config.analytics.clone());
        let worker = if config.run_worker {
            Some((
                outbox_worker(&config, db.clone(), clock.clone())?,
                PeriodicJobs::new(
                    &config,
                    &db,
                    &clock,
                    checkout.clone(),
                    analytics.clone(),
                    "serve",
                ),
            ))
        } else {
            None
        };
        // The other half of the catalog's freshness budget is the page cache's (see
        // `page_cache`).
        let catalog =
            catalog::Catalog::new(db.clone(), clock.clone(), config.catalog_cache_ttl / 2);
        // Other instances on the same PostgreSQL drop their caches when this one changes the
        // catalog, and this one when they do.
        let signals = shop_core::signals::Signals::new(db.clone(), config.database_url.expose());
        catalog.share_changes(signals.clone());
        let ctx = ServerContext::new(app::ssr::Services {
            db: db.clone(),
            catalog: catalog.clone(),
            clock: clock.clone(),
            shop: Arc::new(ShopSettings {
                name: config.shop_name.clone(),
                base_url: config.public_url.clone(),
                behind_tls: config.behind_tls(),
                live_reload_port: std::env::var("LEPTOS_WATCH").is_ok().then_some(3001),
                currency: config.currency,
                mail: mail_shop(&config),
            }),
            images: config.image_store()?,
            checkout: checkout.clone(),
            webhooks: webhook_sender(&config)?,
            analytics: analytics.clone(),
        });
        let api = Arc::new(crate::state::ApiKeys::load(&db, &clock).await?);
        let draining = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let state = AppState {
            ctx,
            api,
            leptos_options: leptos_options(&config),
            metrics: Arc::new(Metrics::default()),
            metrics_token: config.metrics_token.clone(),
            draining: draining.clone(),
        };
        let router = router(&config, state);
        let listener = TcpListener::bind(config.site_addr)
            .await
            .with_context(|| format!("cannot listen on {} (LEPTOS_SITE_ADDR)", config.site_addr))?;
        Ok(Application {
            listener,
            router,
            db,
            worker,
            analytics,
            catalog,
            signals,
            draining,
            drain_delay: config.drain_delay,
            limits: ConnectionLimits {
                header_read: config.header_read_timeout,
                // A request is cut off after REQUEST_TIMEOUT_SECS anyway; a little more lets
                // its answer go out.
                drain: config.request_timeout + std::time::Duration::from_secs(1),
            },
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The database handle.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until `shutdown` resolves. Then `/ready` answers 503 and, after
    /// `DRAIN_DELAY_SECS` (time for a load balancer to notice), the instance stops accepting,
    /// lets in-flight requests and the event in hand finish, gives its job leases back and
    /// closes the database.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut background = Vec::new();
        if let Some((workers, jobs)) = self.worker {
            background.push(tokio::spawn(workers.run(stop_rx.clone())));
            background.push(tokio::spawn(jobs.run(stop_rx.clone())));
        }
        background.push(tokio::spawn(crate::housekeeping::analytics_flush(
            self.analytics.clone(),
            stop_rx.clone(),
        )));
        let (catalog, signals, stop) = (self.catalog.clone(), self.signals.clone(), stop_rx);
        background.push(tokio::spawn(async move {
            catalog.follow_changes(signals, stop).await;
        }));
        let (draining, delay) = (self.draining.clone(), self.drain_delay);
        let shutdown = async move {
            shutdown.await;
            draining.store(true, std::sync::atomic::Ordering::SeqCst);
            if !delay.is_zero() {
                tracing::info!(
                    seconds = delay.as_secs(),
                    "draining: /ready answers 503 while requests are still served"
                );
                tokio::time::sleep(delay).await;
            }
        };
        let result = serve(self.listener, self.router, self.limits, shutdown).await;
        let _ = stop_tx.send(true);
        for task in background {
            let _ = task.await;
        }
        self.db.close().await;
        result
    }
}

/// Accepts connections until `shutdown` resolves, then lets the requests in flight finish
/// (within `limits.drain`) and closes every connection.
///
/// Unlike `axum::serve`, this closes connections that do not send their request headers in
/// time (slowloris), and never waits for ever on a stuck connection at shutdown.
async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use tower::ServiceExt as _;

    // HTTP/1.1 only: browsers speak HTTP/2 over TLS, which a proxy in front terminates.
    // Guessing the protocol first would read the first bytes with no time limit at all.
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service =
            hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                router.clone().oneshot(req.map(axum::body::Body::new))
            });
        let (builder, watcher) = (builder.clone(), graceful.watcher());
        tokio::spawn(async move {
            // Hyper's header timer starts with the first byte: a connection that sends
            // nothing at all is closed here when its time for the headers is up.
            let mut first = [0u8; 1];
            if !matches!(
                tokio::time::timeout(limits.header_read, stream.peek(&mut first)).await,
                Ok(Ok(1..))
            ) {
                return;
            }
            let connection = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .into_owned();
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            seconds = limits.drain.as_secs(),
            "requests still running at the end of the shutdown grace period were cut off"
        );
    }
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
