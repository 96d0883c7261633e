//! Typed configuration, read from environment variables in one place.
//!
//! Every variable is documented in `.env.example` and the README. A bad value stops start-up
//! with one line naming the variable; secret values are never printed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A configuration problem, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

/// A value that must never reach a log: `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, one line per event.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Where mail goes.
#[derive(Clone, Debug)]
pub enum MailTransport {
    /// `.eml` files in this folder.
    File(PathBuf),
    /// SMTP at this URL (it holds credentials).
    Smtp(Secret),
}

/// The whole configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL` (may hold a password).
    pub database_url: Secret,
    /// `DATABASE_MAX_CONNECTIONS`
    pub database_max_connections: u32,
    /// `LEPTOS_SITE_ADDR`
    pub site_addr: SocketAddr,
    /// `LEPTOS_SITE_ROOT`: where the built site (pkg/, assets) lives.
    pub site_root: String,
    /// `SHOP_DATA_DIR`: SQLite file (by default), mail files, uploads.
    pub data_dir: PathBuf,
    /// `SHOP_NAME`
    pub shop_name: String,
    /// `SHOP_CURRENCY`: the currency new products are priced in.
    pub currency: shop_core::Currency,
    /// `PUBLIC_URL`: how shoppers reach the shop (links in mail; https turns on HSTS).
    pub public_url: String,
    /// `TRUSTED_ORIGINS`: other origins allowed to post forms (besides `PUBLIC_URL` and the
    /// request's own host).
    pub trusted_origins: Vec<String>,
    /// `API_CORS_ORIGINS`: web origins whose pages may call the JSON API from a browser
    /// (CORS); none by default.
    pub api_cors_origins: Vec<String>,
    /// `MAIL_FROM`
    pub mail_from: String,
    /// `STAFF_EMAIL`: where staff mails go (new order, low stock, payment flagged); by
    /// default the `MAIL_FROM` address.
    pub staff_email: shop_core::Email,
    /// `SHOP_BRAND_COLOUR`: the mail header and button colour, `#rrggbb`.
    pub brand_colour: String,
    /// `SMTP_URL` or the file folder.
    pub mail: MailTransport,
    /// `LOG_FORMAT`
    pub log_format: LogFormat,
    /// `RUN_WORKER`: run the outbox worker inside `serve`.
    pub run_worker: bool,
    /// `REQUEST_TIMEOUT_SECS`
    pub request_timeout: Duration,
    /// `DRAIN_DELAY_SECS`: after SIGTERM, how long to go on serving while `/ready` answers
    /// 503, so a load balancer's health check takes the instance out before it stops
    /// accepting connections.
    pub drain_delay: Duration,
    /// `JOB_LEASE_SECS`: how long a process's hold on a periodic job lasts unless renewed;
    /// a process that dies hands its jobs over after this long.
    pub job_lease: Duration,
    /// `MAX_BODY_BYTES`
    pub max_body_bytes: usize,
    /// `MAX_UPLOAD_BYTES`: the limit for admin uploads (product images, catalog files).
    pub max_upload_bytes: usize,
    /// `TRUST_PROXY`: take the client address from `X-Forwarded-For` (set by the load
    /// balancer) instead of the TCP peer. Only behind a proxy that overwrites the header.
    pub trust_proxy: bool,
    /// `METRICS_TOKEN`: the bearer token `/metrics` asks for; unset, it answers loopback only.
    pub metrics_token: Option<Secret>,
    /// `WEBHOOK_ALLOW_LOOPBACK`: let webhook endpoints be on 127.0.0.1 / ::1 (tests, a
    /// receiver on the same machine). Other addresses inside the network are always refused.
    pub webhook_allow_loopback: bool,
    /// `HEADER_READ_TIMEOUT_SECS`: a connection that has not sent its request headers in
    /// this time is closed.
    pub header_read_timeout: Duration,
    /// `RATE_LIMIT_PER_MINUTE`: requests a client may make per minute (bursts up to a sixth of
    /// it at once) before getting 429; 0 turns the limit off.
    pub rate_limit_per_minute: u32,
    /// `API_RATE_LIMIT_PER_MINUTE`: requests one JSON API key, or one user signed in with
    /// access tokens, may make per minute (bursts up to a sixth of it) before getting 429;
    /// 0 turns it off. Every API request also counts against `RATE_LIMIT_PER_MINUTE` for its
    /// client address.
    pub api_rate_limit_per_minute: u32,
    /// `CATALOG_CACHE_SECS`: the most a catalog page may be behind the database (how long
    /// another instance's catalog change may take to show): the page cache keeps rendered
    /// pages for half of it, the catalog's read cache its data for the other half; 0 is off.
    pub catalog_cache_ttl: Duration,
    /// `ANALYTICS_ENABLED`, `ANALYTICS_RETENTION_DAYS`, `SHOP_TIMEZONE`: whether shoppers'
    /// actions are counted, how many days raw events are kept, and the time zone that decides
    /// which day an event counts on.
    pub analytics: analytics::Settings,
    /// `SHOP_VAT_RATE`: the VAT every price includes, in basis points (20% is 2000).
    pub vat_rate_bp: i64,
    /// `CHECKOUT_HOLD_MINUTES`: how long a placed order holds its units while the shopper
    /// pays (the payment session's lifetime).
    pub checkout_hold: Duration,
    /// Stripe, when `STRIPE_SECRET_KEY` is set; the offline provider otherwise.
    pub stripe: Option<StripeConfig>,
    /// `STRIPE_WEBHOOK_SECRETS`: the signing secrets webhook events may carry.
    pub webhook_secrets: Vec<Secret>,
    /// `S3_BUCKET` and the rest: product images in an S3-compatible bucket instead of
    /// `<SHOP_DATA_DIR>/images`, so several instances share them.
    pub image_bucket: Option<ImageBucket>,
}

/// Where product images are kept when not on local disk.
#[derive(Clone, Debug)]
pub struct ImageBucket {
    /// `S3_BUCKET`
    pub bucket: String,
    /// `S3_ENDPOINT`: for servers other than AWS (MinIO, Ceph, R2...), e.g.
    /// `http://127.0.0.1:9000`.
    pub endpoint: Option<String>,
    /// `S3_REGION` (default `us-east-1`).
    pub region: String,
    /// `S3_ACCESS_KEY_ID` and `S3_SECRET_ACCESS_KEY`; without them the AWS credential
    /// chain (AWS_* variables, the instance's role).
    pub access_key: Option<(String, Secret)>,
    /// `S3_PREFIX`: the folder in the bucket (default `images`).
    pub prefix: String,
}

impl Config {
    /// Where product images are kept: the bucket when configured, else
    /// `<SHOP_DATA_DIR>/images`.
    pub fn image_store(&self) -> anyhow::Result<catalog::ImageStore> {
        let Some(b) = &self.image_bucket else {
            return Ok(catalog::ImageStore::new(self.data_dir.join("images")));
        };
        catalog::ImageStore::bucket(&catalog::BucketConfig {
            bucket: b.bucket.clone(),
            endpoint: b.endpoint.clone(),
            region: b.region.clone(),
            access_key: b
                .access_key
                .as_ref()
                .map(|(id, secret)| (id.clone(), secret.expose().to_owned())),
            prefix: b.prefix.clone(),
        })
        .map_err(|e| anyhow::anyhow!("S3_BUCKET: {e}"))
    }
}

/// How to reach Stripe.
#[derive(Clone, Debug)]
pub struct StripeConfig {
    /// `STRIPE_SECRET_KEY` (`sk_live_...` or `sk_test_...`).
    pub secret_key: Secret,
    /// `STRIPE_API_BASE`: Stripe's API (a fake one in tests).
    pub api_base: String,
}

/// A percentage with up to two decimals ("20", "7.7", "8.25") in basis points.
fn parse_percent(raw: &str) -> Option<i64> {
    let money = shop_core::Money::parse_decimal(raw, shop_core::Currency::Eur).ok()?;
    (0..=10_000)
        .contains(&money.minor())
        .then_some(money.minor())
}

/// Looks up one variable by name.
type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

/// The `S3_*` settings, when `S3_BUCKET` is set.
fn image_bucket(var: Lookup) -> Result<Option<ImageBucket>, ConfigError> {
    let Some(bucket) = var("S3_BUCKET") else {
        for name in [
            "S3_ENDPOINT",
            "S3_ACCESS_KEY_ID",
            "S3_SECRET_ACCESS_KEY",
            "S3_PREFIX",
        ] {
            if var(name).is_some() {
                return Err(err("S3_BUCKET", format!("must be set when {name} is")));
            }
        }
        return Ok(None);
    };
    let bucket = bucket.trim().to_owned();
    if !(3..=63).contains(&bucket.len())
        || !bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return Err(err(
            "S3_BUCKET",
            "must be a bucket name: 3 to 63 lowercase letters, digits, dots and hyphens",
        ));
    }
    let endpoint = match var("S3_ENDPOINT") {
        None => None,
        Some(e) => {
            let e = e.trim().trim_end_matches('/').to_owned();
            if !(e.starts_with("http://") || e.starts_with("https://"))
                || e.contains(char::is_whitespace)
            {
                return Err(err(
                    "S3_ENDPOINT",
                    "must be an http:// or https:// URL, e.g. http://127.0.0.1:9000",
                ));
            }
            Some(e)
        }
    };
    let access_key = match (var("S3_ACCESS_KEY_ID"), var("S3_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => Some((id.trim().to_owned(), Secret(secret.trim().to_owned()))),
        (None, None) => None,
        (Some(_), None) => {
            return Err(err(
                "S3_SECRET_ACCESS_KEY",
                "must be set with S3_ACCESS_KEY_ID",
            ));
        }
        (None, Some(_)) => {
            return Err(err(
                "S3_ACCESS_KEY_ID",
                "must be set with S3_SECRET_ACCESS_KEY",
            ));
        }
    };
    let prefix = var("S3_PREFIX").unwrap_or_else(|| "images".to_owned());
    let prefix = prefix.trim().trim_matches('/').to_owned();
    if prefix
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
        && !prefix.is_empty()
    {
        return Err(err(
            "S3_PREFIX",
            "must be a folder path such as shop/images",
        ));
    }
    Ok(Some(ImageBucket {
        bucket,
        endpoint,
        region: var("S3_REGION").map_or_else(|| "us-east-1".to_owned(), |r| r.trim().to_owned()),
        access_key,
        prefix,
    }))
}

fn parse_bool(var: Lookup, name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match var(name).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(_) => Err(err(name, "must be true or false")),
    }
}

fn parse_number<T>(
    var: Lookup,
    name: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    let Some(raw) = var(name) else {
        return Ok(default);
    };
    let value: T = raw.trim().parse().map_err(|_| {
        err(
            name,
            format!(
                "must be a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        )
    })?;
    if !range.contains(&value) {
        return Err(err(
            name,
            format!("must be from {} to {}", range.start(), range.end()),
        ));
    }
    Ok(value)
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map in tests).
    /// Empty values count as unset.
    pub fn from_lookup(lookup: Lookup) -> Result<Config, ConfigError> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let var: Lookup = &var;
        let data_dir = PathBuf::from(var("SHOP_DATA_DIR").unwrap_or_else(|| "data".to_owned()));
        let database_url = var("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}/shop.db", data_dir.display()));
        shop_core::Backend::from_url(&database_url).map_err(|_| {
            err(
                "DATABASE_URL",
                "must start with sqlite:// (e.g. sqlite://data/shop.db) or postgres:// (e.g. postgres://user:password@localhost/shop)",
            )
        })?;

        let site_addr_raw = var("LEPTOS_SITE_ADDR").unwrap_or_else(|| "127.0.0.1:3000".to_owned());
        let site_addr: SocketAddr = site_addr_raw.parse().map_err(|_| {
            err(
                "LEPTOS_SITE_ADDR",
                "must be an IP address and port, e.g. 127.0.0.1:3000",
            )
        })?;

        let public_url = match var("PUBLIC_URL") {
            Some(u) => {
                let trimmed = u.trim().trim_end_matches('/').to_owned();
                if !(trimmed.starts_with("http://") || trimmed.starts_with("https://"))
                    || trimmed.contains(char::is_whitespace)
                {
                    return Err(err(
                        "PUBLIC_URL",
                        "must be an http:// or https:// URL, e.g. https://shop.example.com",
                    ));
                }
                trimmed
            }
            None => format!("http://{site_addr}"),
        };

        let origins = |name: &'static str| -> Result<Vec<String>, ConfigError> {
            match var(name) {
                None => Ok(Vec::new()),
                Some(list) => list
                    .split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .filter(|o| !o.is_empty())
                    .map(|o| {
                        let bare = o
                            .strip_prefix("https://")
                            .or_else(|| o.strip_prefix("http://"))
                            .is_some_and(|host| !host.is_empty() && !host.contains('/'));
                        if bare {
                            Ok(o)
                        } else {
                            Err(err(
                                name,
                                format!("{o:?} is not an origin like https://admin.example.com"),
                            ))
                        }
                    })
                    .collect(),
            }
        };
        let trusted_origins = origins("TRUSTED_ORIGINS")?;
        let api_cors_origins = origins("API_CORS_ORIGINS")?;

        let mail_from = var("MAIL_FROM")
            .unwrap_or_else(|| "Harbour Street <shop@localhost.localdomain>".to_owned());
        shop_core::mail::Mailer::parse_from(&mail_from).map_err(|_| {
            err(
                "MAIL_FROM",
                "must be an address like Shop <shop@example.com>",
            )
        })?;

        let staff_email = match var("STAFF_EMAIL") {
            Some(address) => shop_core::Email::parse(address.trim())
                .map_err(|_| err("STAFF_EMAIL", "must be an email address"))?,
            None => shop_core::mail::Mailer::parse_from(&mail_from)
                .ok()
                .and_then(|m| shop_core::Email::parse(m.email.as_ref()).ok())
                .ok_or_else(|| err("MAIL_FROM", "must hold a valid address"))?,
        };
        let brand_colour = var("SHOP_BRAND_COLOUR").unwrap_or_else(|| "#1c1917".to_owned());
        let hex = brand_colour.strip_prefix('#').unwrap_or_default();
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err("SHOP_BRAND_COLOUR", "must be a colour like #1c1917"));
        }

        let mail = match var("SMTP_URL") {
            Some(url) => {
                if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                    return Err(err("SMTP_URL", "must start with smtp:// or smtps://"));
                }
                MailTransport::Smtp(Secret(url))
            }
            None => MailTransport::File(
                var("MAIL_DIR").map_or_else(|| data_dir.join("mail"), PathBuf::from),
            ),
        };

        let log_format = match var("LOG_FORMAT")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("pretty") | Some("text") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(_) => return Err(err("LOG_FORMAT", "must be pretty or json")),
        };

        let vat_rate_bp = match var("SHOP_VAT_RATE") {
            None => 2000,
            Some(raw) => parse_percent(&raw).ok_or_else(|| {
                err(
                    "SHOP_VAT_RATE",
                    "must be a percentage from 0 to 100 with at most two decimals, e.g. 20 or 7.7",
                )
            })?,
        };
        let webhook_secrets: Vec<Secret> = var("STRIPE_WEBHOOK_SECRETS")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Secret(s.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        if webhook_secrets.iter().any(|s| !s.0.starts_with("whsec_")) {
            return Err(err(
                "STRIPE_WEBHOOK_SECRETS",
                "each secret starts with whsec_ (from the Stripe dashboard or `stripe listen`)",
            ));
        }
        let stripe = match var("STRIPE_SECRET_KEY") {
            None => None,
            Some(key) => {
                let key = key.trim().to_owned();
                if !(key.starts_with("sk_") || key.starts_with("rk_")) {
                    return Err(err(
                        "STRIPE_SECRET_KEY",
                        "must be a Stripe secret key (sk_test_..., sk_live_... or rk_...)",
                    ));
                }
                if webhook_secrets.is_empty() {
                    return Err(err(
                        "STRIPE_WEBHOOK_SECRETS",
                        "is required with STRIPE_SECRET_KEY: orders are paid only by verified webhook events",
                    ));
                }
                let api_base = var("STRIPE_API_BASE")
                    .map(|b| b.trim().trim_end_matches('/').to_owned())
                    .unwrap_or_else(|| "https://api.stripe.com".to_owned());
                if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
                    return Err(err("STRIPE_API_BASE", "must be an http(s):// URL"));
                }
                Some(StripeConfig {
                    secret_key: Secret(key),
                    api_base,
                })
            }
        };

        // The offline provider takes "payments" without money: fine on a laptop, a demo or
        // in tests, never by accident on a public shop.
        let offline_payments =
            parse_bool(var, "OFFLINE_PAYMENTS", !public_url.starts_with("https://"))?;
        if stripe.is_none() && !offline_payments {
            return Err(err(
                "STRIPE_SECRET_KEY",
                "is required for a shop served over https (PUBLIC_URL); set OFFLINE_PAYMENTS=true to take test payments without Stripe",
            ));
        }

        Ok(Config {
            database_url: Secret(database_url),
            database_max_connections: parse_number(var, "DATABASE_MAX_CONNECTIONS", 16, 1..=1000)?,
            site_addr,
            site_root: var("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".to_owned()),
            data_dir,
            shop_name: var("SHOP_NAME").unwrap_or_else(|| "Harbour Street".to_owned()),
            currency: match var("SHOP_CURRENCY") {
                None => shop_core::Currency::Eur,
                Some(code) => code.trim().to_ascii_uppercase().parse().map_err(|_| {
                    err(
                        "SHOP_CURRENCY",
                        format!(
                            "must be one of {}",
                            shop_core::Currency::ALL.map(|c| c.code()).join(", ")
                        ),
                    )
                })?,
            },
            public_url,
            trusted_origins,
            api_cors_origins,
            mail_from,
            staff_email,
            brand_colour,
            mail,
            log_format,
            run_worker: parse_bool(var, "RUN_WORKER", true)?,
            request_timeout: Duration::from_secs(parse_number(
                var,
                "REQUEST_TIMEOUT_SECS",
                30,
                1..=600,
            )?),
            drain_delay: Duration::from_secs(parse_number(var, "DRAIN_DELAY_SECS", 0, 0..=300)?),
            job_lease: Duration::from_secs(parse_number(
                var,
                "JOB_LEASE_SECS",
                shop_core::leases::DEFAULT_TTL.as_secs(),
                1..=3600,
            )?),
            max_body_bytes: parse_number(
                var,
                "MAX_BODY_BYTES",
                2 * 1024 * 1024,
                1024..=1024 * 1024 * 1024,
            )?,
            max_upload_bytes: parse_number(
                var,
                "MAX_UPLOAD_BYTES",
                64 * 1024 * 1024,
                1024 * 1024..=4 * 1024 * 1024 * 1024,
            )?,
            trust_proxy: parse_bool(var, "TRUST_PROXY", false)?,
            webhook_allow_loopback: parse_bool(var, "WEBHOOK_ALLOW_LOOPBACK", false)?,
            metrics_token: match var("METRICS_TOKEN") {
                None => None,
                Some(t) if t.trim().len() >= 16 && !t.trim().contains(char::is_whitespace) => {
                    Some(Secret(t.trim().to_owned()))
                }
                Some(_) => {
                    return Err(err(
                        "METRICS_TOKEN",
                        "must be at least 16 characters without spaces",
                    ));
                }
            },
            header_read_timeout: Duration::from_secs(parse_number(
                var,
                "HEADER_READ_TIMEOUT_SECS",
                10,
                1..=300,
            )?),
            rate_limit_per_minute: parse_number(
                var,
                "RATE_LIMIT_PER_MINUTE",
                3000,
                0..=10_000_000,
            )?,
            api_rate_limit_per_minute: parse_number(
                var,
                "API_RATE_LIMIT_PER_MINUTE",
                1200,
                0..=10_000_000,
            )?,
            catalog_cache_ttl: Duration::from_secs(parse_number(
                var,
                "CATALOG_CACHE_SECS",
                catalog::READ_TTL.as_secs(),
                0..=3600,
            )?),
            analytics: analytics::Settings {
                enabled: parse_bool(var, "ANALYTICS_ENABLED", true)?,
                retention_days: parse_number(var, "ANALYTICS_RETENTION_DAYS", 90, 1..=3650)?,
                zone: match var("SHOP_TIMEZONE") {
                    None => analytics::Zone::utc(),
                    Some(name) => {
                        analytics::Zone::named(&name).map_err(|e| err("SHOP_TIMEZONE", e))?
                    }
                },
            },
            vat_rate_bp,
            // Stripe's sessions last from 30 minutes to 24 hours.
            checkout_hold: Duration::from_secs(
                60 * parse_number(var, "CHECKOUT_HOLD_MINUTES", 30, 30..=1440)?,
            ),
            stripe,
            webhook_secrets,
            image_bucket: image_bucket(var)?,
        })
    }

    /// True when shoppers reach the shop over https.
    pub fn behind_tls(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(&move |name| map.get(name).cloned())
    }

    #[test]
    fn defaults_run_an_embedded_shop_on_loopback() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url.expose(), "sqlite://data/shop.db");
        assert_eq!(c.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_url, "http://127.0.0.1:3000");
        assert!(matches!(c.mail, MailTransport::File(ref p) if p.ends_with("data/mail")));
        assert!(c.run_worker);
        assert!(!c.behind_tls());
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let cases = [
            ("DATABASE_URL", "mysql://x"),
            ("LEPTOS_SITE_ADDR", "localhost"),
            ("PUBLIC_URL", "shop.example.com"),
            ("TRUSTED_ORIGINS", "admin.example.com"),
            ("API_CORS_ORIGINS", "https://app.example.com/path"),
            ("MAIL_FROM", "not an address"),
            ("SHOP_TIMEZONE", "Mars/Olympus"),
            ("ANALYTICS_RETENTION_DAYS", "0"),
            ("ANALYTICS_ENABLED", "maybe"),
            ("SMTP_URL", "http://mail"),
            ("LOG_FORMAT", "xml"),
            ("RUN_WORKER", "maybe"),
            ("REQUEST_TIMEOUT_SECS", "0"),
            ("DATABASE_MAX_CONNECTIONS", "many"),
            ("MAX_BODY_BYTES", "-1"),
            ("METRICS_TOKEN", "short"),
            ("HEADER_READ_TIMEOUT_SECS", "0"),
            ("RATE_LIMIT_PER_MINUTE", "lots"),
            ("SHOP_VAT_RATE", "20.555"),
            ("SHOP_VAT_RATE", "101"),
            ("CHECKOUT_HOLD_MINUTES", "5"),
            ("STRIPE_SECRET_KEY", "pk_test_123"),
            ("STRIPE_WEBHOOK_SECRETS", "secret"),
        ];
        for (var, value) in cases {
            let e = config(&[(var, value)]).unwrap_err();
            assert_eq!(e.var, var, "{var}={value}");
            assert!(
                e.to_string()
                    .starts_with(&format!("configuration error: {var}: "))
            );
        }
    }

    #[test]
    fn secrets_are_never_printed() {
        let e = config(&[("SMTP_URL", "ftp://user:hunter2@mail")]).unwrap_err();
        assert!(!e.to_string().contains("hunter2"));
        let c = config(&[
            ("SMTP_URL", "smtps://user:hunter2@mail"),
            ("DATABASE_URL", "postgres://shop:hunter2@db/shop"),
            ("STRIPE_SECRET_KEY", "sk_test_hunter2"),
            ("STRIPE_WEBHOOK_SECRETS", "whsec_hunter2"),
        ])
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn checkout_settings_have_defaults_and_stripe_needs_webhook_secrets() {
        let c = config(&[]).unwrap();
        assert_eq!(c.vat_rate_bp, 2000);
        assert_eq!(c.checkout_hold, Duration::from_secs(30 * 60));
        assert!(c.stripe.is_none());
        let c = config(&[
            ("SHOP_VAT_RATE", "7.7"),
            ("CHECKOUT_HOLD_MINUTES", "60"),
            ("STRIPE_SECRET_KEY", "sk_test_abc"),
            ("STRIPE_WEBHOOK_SECRETS", "whsec_new, whsec_old"),
            ("STRIPE_API_BASE", "http://127.0.0.1:12111/"),
        ])
        .unwrap();
        assert_eq!(c.vat_rate_bp, 770);
        assert_eq!(c.checkout_hold, Duration::from_secs(3600));
        assert_eq!(c.webhook_secrets.len(), 2);
        assert_eq!(c.stripe.unwrap().api_base, "http://127.0.0.1:12111");
        // A key without webhook secrets could never see an order paid.
        let e = config(&[("STRIPE_SECRET_KEY", "sk_test_abc")]).unwrap_err();
        assert_eq!(e.var, "STRIPE_WEBHOOK_SECRETS");
    }

    #[test]
    fn scale_out_settings_have_defaults_and_are_checked() {
        let c = config(&[]).unwrap();
        assert_eq!(c.drain_delay, Duration::ZERO);
        assert_eq!(c.job_lease, Duration::from_secs(30));
        assert!(c.image_bucket.is_none());
        let c = config(&[
            ("DRAIN_DELAY_SECS", "5"),
            ("JOB_LEASE_SECS", "10"),
            ("S3_BUCKET", "shop-images"),
            ("S3_ENDPOINT", "http://127.0.0.1:9000/"),
            ("S3_ACCESS_KEY_ID", "minio"),
            ("S3_SECRET_ACCESS_KEY", "minio-secret-key"),
            ("S3_PREFIX", "/harbour/images/"),
        ])
        .unwrap();
        assert_eq!(c.drain_delay, Duration::from_secs(5));
        assert_eq!(c.job_lease, Duration::from_secs(10));
        let bucket = c.image_bucket.clone().unwrap();
        assert_eq!(bucket.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(bucket.prefix, "harbour/images");
        assert_eq!(bucket.region, "us-east-1");
        assert!(!format!("{c:?}").contains("minio-secret-key"));
        assert!(c.image_store().unwrap().dir().is_none());
        for (vars, var) in [
            (vec![("S3_BUCKET", "Shop_Images")], "S3_BUCKET"),
            (vec![("S3_ENDPOINT", "http://127.0.0.1:9000")], "S3_BUCKET"),
            (
                vec![("S3_BUCKET", "shop"), ("S3_ENDPOINT", "127.0.0.1:9000")],
                "S3_ENDPOINT",
            ),
            (
                vec![("S3_BUCKET", "shop"), ("S3_ACCESS_KEY_ID", "minio")],
                "S3_SECRET_ACCESS_KEY",
            ),
            (
                vec![("S3_BUCKET", "shop"), ("S3_PREFIX", "a/../b")],
                "S3_PREFIX",
            ),
            (vec![("JOB_LEASE_SECS", "0")], "JOB_LEASE_SECS"),
            (vec![("DRAIN_DELAY_SECS", "soon")], "DRAIN_DELAY_SECS"),
        ] {
            assert_eq!(config(&vars).unwrap_err().var, var, "{vars:?}");
        }
    }

    #[test]
    fn https_public_url_means_behind_tls() {
        let e = config(&[("PUBLIC_URL", "https://shop.example.com/")]).unwrap_err();
        assert_eq!(
            e.var, "STRIPE_SECRET_KEY",
            "no free orders on a public shop by accident"
        );
        let c = config(&[
            ("PUBLIC_URL", "https://shop.example.com/"),
            ("OFFLINE_PAYMENTS", "true"),
        ])
        .unwrap();
        assert_eq!(c.public_url, "https://shop.example.com");
        assert!(c.behind_tls());
    }
}
