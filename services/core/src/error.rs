//! Error conventions shared by the service crates.
//!
//! Each service has its own `thiserror` enum whose variants are business outcomes ("email
//! taken", "out of stock") plus one variant wrapping [`DbError`] for infrastructure failures.
//! The HTTP edge shows business outcomes to the user and logs infrastructure failures,
//! showing only a generic message with the request id.

/// An infrastructure failure talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid DATABASE_URL: {0}")]
    Url(String),
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Helpers for turning constraint violations into business outcomes.
pub trait DbResultExt<T> {
    /// Maps a unique-constraint violation to `Ok(Err(on_conflict))`, passing every other
    /// error through, so callers can report "that email is taken" by matching on a value.
    fn on_unique_violation<E>(self, on_conflict: E) -> Result<Result<T, E>, sqlx::Error>;
}

impl<T> DbResultExt<T> for Result<T, sqlx::Error> {
    fn on_unique_violation<E>(self, on_conflict: E) -> Result<Result<T, E>, sqlx::Error> {
        match self {
            Ok(v) => Ok(Ok(v)),
            Err(e) if is_unique_violation(&e) => Ok(Err(on_conflict)),
            Err(e) => Err(e),
        }
    }
}

/// True when `e` is a unique-constraint violation on either backend.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}
