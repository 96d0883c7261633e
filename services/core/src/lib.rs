//! Shared domain types and infrastructure for the shop's service crates.
//!
//! Every service crate builds on these: typed ids, [`Money`], [`Email`], the database
//! handle [`Db`] (SQLite or PostgreSQL behind one API), the [`Clock`], the transactional
//! [`outbox`] and the [`mail`] transport. Nothing here knows about HTTP or Leptos.

pub mod audit;
pub mod batch;
pub mod clock;
pub mod db;
pub mod email;
pub mod error;
pub mod group_commit;
pub mod id;
pub mod leases;
pub mod mail;
pub mod money;
pub mod outbox;
pub mod quantity;
pub mod readers;
pub mod search;
pub mod secrets;
pub mod signals;
pub mod spreadsheet;

pub use batch::Batch;
pub use clock::{Clock, Timestamp};
pub use db::{Backend, Db, DbConfig, Tx};
pub use email::Email;
pub use error::{DbError, DbResultExt, UniqueField};
pub use group_commit::Writer;
pub use id::{AddressId, CartId, CategoryId, LineId, OrderId, ProductId, UserId, VariantId};
pub use money::{Currency, Money, MoneyError};
pub use quantity::{BadQuantity, BadSku, Quantity, Sku};
