//! The catalog service on a real database (SQLite, or PostgreSQL with `TEST_POSTGRES_URL`),
//! one module per module of the crate.

mod images;
mod products;
mod search;
mod stock;
