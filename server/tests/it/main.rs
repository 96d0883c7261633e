//! Integration tests: the real router on a real port against a fresh database.
//!
//! SQLite by default; set `TEST_POSTGRES_URL` (a server URL whose user may create databases,
//! e.g. `postgres://postgres@127.0.0.1:5433/postgres`) to run every test on PostgreSQL too.

mod common;

mod accounts;
mod admin;
mod analytics;
mod api;
mod api_admin;
mod assets;
mod browse;
mod cart_pages;
mod catalog_admin;
mod catalog_uploads;
mod checkout;
mod cluster;
mod config_errors;
mod csrf;
mod hostile_text;
mod http_basics;
mod mail;
mod malformed_input;
mod object_storage;
mod page_cache;
mod pages;
mod process;
mod structure;
mod webhooks;
