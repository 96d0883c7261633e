//! The checkout service on a real database (SQLite, or PostgreSQL with
//! `TEST_POSTGRES_URL`), one module per concern.

mod cards;
mod common;
mod crash;
mod fulfil;
mod lapse;
mod place;
mod webhook;
