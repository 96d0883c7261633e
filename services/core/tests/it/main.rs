//! Shared infrastructure on a real database (SQLite, or PostgreSQL with `TEST_POSTGRES_URL`).

mod db;
mod outbox;
mod readers;
