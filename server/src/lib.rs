//! The shop server: configuration, HTTP stack, background worker and command-line tasks.

pub mod api;
pub mod config;
pub mod csp;
pub mod frame;
pub mod housekeeping;
pub mod mail_view;
pub mod metrics;
pub mod middleware;
pub mod page_cache;
pub mod page_events;
pub mod routes;
pub mod seed;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod uploads;
