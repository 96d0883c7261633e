//! `shop`: the one binary. `shop help` lists the commands.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use shop::config::Config;
use shop::seed::{SeedOptions, seed};
use shop::startup::{self, Application};
use shop_core::{Clock, Email};

/// Rendering a page allocates many small strings; with glibc's allocator a third of the
/// server's CPU time went to malloc and free (measured with perf on the catalog benchmark).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "\
Usage: shop [COMMAND]

Commands:
  serve                 Serve the shop (the default). Runs the outbox worker too unless RUN_WORKER=false.
  worker                Run only the background work: the outbox workers and the periodic jobs
                        (housekeeping, the payment sweeper, analytics roll-ups), for scaled-out
                        deployments. Periodic jobs run in one process of a cluster at a time.
  migrate               Apply database migrations and exit.
  seed [--catalog FILE] [--if-empty] [--no-history]
                        Load demo data: the built-in demo catalog (or a JSONL catalog file) and the
                        demo admin account. Idempotent; --if-empty skips shops that have products.
                        With the built-in catalog, a shop without orders also gets 60 days of
                        made-up activity for its dashboards (not with --no-history).
  demo-history [--days N] [--orders N]
                        Make up N days (default 365) of shop activity up to now, about N orders
                        (default 52000) and ten visitors an order, for a demo or the dashboards'
                        benchmark; then roll it up. Only for a shop without orders.
  create-admin --email EMAIL [--name NAME]
                        Create an admin account, or make an existing account an admin. The password
                        is read from ADMIN_PASSWORD, or from standard input.
  help                  Show this help.

Configuration comes from environment variables; see .env.example.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str).unwrap_or("serve");
    if matches!(command, "help" | "--help" | "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    shop::telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(command, &args[1.min(args.len())..], config));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The demo shop's made-up history (`shop seed` without `--catalog`).
const DEMO_HISTORY: shop::seed::history::HistoryOptions = shop::seed::history::HistoryOptions {
    days: 60,
    orders: 3_000,
};

/// The shop's settings `shop::seed::history` needs.
fn history_shop<'a>(
    db: &'a shop_core::Db,
    clock: &'a Clock,
    config: &'a Config,
) -> shop::seed::history::Shop<'a> {
    shop::seed::history::Shop {
        db,
        clock,
        analytics: &config.analytics,
        currency: config.currency,
        vat_rate_bp: config.vat_rate_bp,
    }
}

/// Makes up `options`' history for the demo shop, unless it has orders already.
async fn demo_history(
    db: &shop_core::Db,
    clock: &Clock,
    config: &Config,
    options: shop::seed::history::HistoryOptions,
) -> anyhow::Result<()> {
    if shop::seed::history::orders(db).await? > 0 {
        return Ok(());
    }
    let made = shop::seed::history::generate(&history_shop(db, clock, config), options).await?;
    println!(
        "Made up {} days of activity for the dashboards: {} orders, {} events.",
        options.days, made.orders, made.events
    );
    Ok(())
}

async fn run(command: &str, args: &[String], config: Config) -> anyhow::Result<()> {
    match command {
        "serve" => {
            let started = std::time::Instant::now();
            let app = Application::build(config.clone()).await?;
            tracing::info!(
                addr = %config.site_addr,
                port = app.port(),
                startup_ms = started.elapsed().as_millis() as u64,
                "listening on http://{}",
                config.site_addr
            );
            app.run_until_stopped(startup::shutdown_signal()).await?;
            Ok(())
        }
        "worker" => startup::run_worker(&config).await,
        "migrate" => {
            let db = startup::connect_and_migrate(&config).await?;
            db.close().await;
            println!("Migrations are up to date.");
            Ok(())
        }
        "seed" => {
            let mut options = SeedOptions::default();
            let mut history = true;
            let mut it = args.iter();
            while let Some(arg) = it.next() {
                match arg.as_str() {
                    "--catalog" => {
                        let path = it
                            .next()
                            .ok_or_else(|| anyhow::anyhow!("--catalog needs a file path"))?;
                        options.catalog = Some(PathBuf::from(path));
                    }
                    "--if-empty" => options.if_empty = true,
                    "--no-history" => history = false,
                    other => anyhow::bail!("unknown option {other:?} for seed\n\n{USAGE}"),
                }
            }
            options.demo_images = Some(config.image_store()?);
            let db = startup::connect_and_migrate(&config).await?;
            let clock = Clock::system();
            let mut result = seed(&db, &clock, &options).await;
            // The demo shop gets two months of made-up activity, so its dashboards have
            // something to show (only a shop without orders: never a real one's).
            if result.is_ok() && history && options.catalog.is_none() {
                result = demo_history(&db, &clock, &config, DEMO_HISTORY).await;
            }
            db.close().await;
            result
        }
        "demo-history" => {
            let mut options = shop::seed::history::HistoryOptions::default();
            let mut it = args.iter();
            while let Some(arg) = it.next() {
                let mut number = |name: &str| -> anyhow::Result<i64> {
                    it.next()
                        .and_then(|v| v.parse().ok())
                        .ok_or_else(|| anyhow::anyhow!("{name} needs a whole number"))
                };
                match arg.as_str() {
                    "--days" => options.days = number("--days")?,
                    "--orders" => options.orders = number("--orders")?,
                    other => anyhow::bail!("unknown option {other:?} for demo-history\n\n{USAGE}"),
                }
            }
            let db = startup::connect_and_migrate(&config).await?;
            let started = std::time::Instant::now();
            let clock = Clock::system();
            let shop = history_shop(&db, &clock, &config);
            let result = shop::seed::history::generate(&shop, options).await;
            db.close().await;
            let made = result?;
            println!(
                "Made {} days: {} visitors, {} events, {} orders, {} abandoned carts ({} s).",
                options.days,
                made.visitors,
                made.events,
                made.orders,
                made.abandoned_carts,
                started.elapsed().as_secs()
            );
            Ok(())
        }
        "create-admin" => {
            let mut email = None;
            let mut name = None;
            let mut it = args.iter();
            while let Some(arg) = it.next() {
                match arg.as_str() {
                    "--email" => email = it.next().cloned(),
                    "--name" => name = it.next().cloned(),
                    other => anyhow::bail!("unknown option {other:?} for create-admin\n\n{USAGE}"),
                }
            }
            let email = email.ok_or_else(|| anyhow::anyhow!("create-admin needs --email"))?;
            let email = Email::parse(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let name = name.unwrap_or_else(|| "Admin".to_owned());
            let password = match std::env::var("ADMIN_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => read_password()?,
            };
            let db = startup::connect_and_migrate(&config).await?;
            let result =
                auth::create_or_promote_admin(&db, &Clock::system(), &email, &name, &password)
                    .await;
            db.close().await;
            let (_, outcome) = result?;
            match outcome {
                auth::AdminOutcome::Created => println!("Created admin {email}."),
                auth::AdminOutcome::Promoted => {
                    println!("{email} is now an admin (password updated).")
                }
            }
            Ok(())
        }
        other => anyhow::bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}

/// Reads one line from standard input (the terminal echo is the shell's business; piping
/// the password in keeps it out of the process list and shell history).
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password for the admin account: ");
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        anyhow::bail!("no password given (set ADMIN_PASSWORD or pipe it on standard input)");
    }
    Ok(password)
}
