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

/// A unique constraint a form field stands for, and what to tell the user when a value is
/// taken. `constraints` names it as each backend reports it: PostgreSQL's constraint name
/// (`products_slug_key`) and SQLite's `table.column` (`products.slug`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UniqueField {
    pub constraints: &'static [&'static str],
    pub field: &'static str,
    pub message: &'static str,
}

/// The unique constraint `e` violated, as the backend names it (see [`UniqueField`]); `None`
/// for every other error.
pub fn violated_unique(e: &sqlx::Error) -> Option<String> {
    let db = e.as_database_error().filter(|d| d.is_unique_violation())?;
    if let Some(name) = db.constraint() {
        return Some(name.to_owned());
    }
    constraint_in_message(db.message())
}

/// The constraint a backend's unique-violation message names: PostgreSQL's `duplicate key
/// value violates unique constraint "products_slug_key"`, SQLite's `UNIQUE constraint failed:
/// products.slug` (several columns: `t.a, t.b`).
fn constraint_in_message(message: &str) -> Option<String> {
    if let Some((_, rest)) = message.split_once("unique constraint \"") {
        return rest.split_once('"').map(|(name, _)| name.to_owned());
    }
    message
        .split_once("constraint failed: ")
        .map(|(_, columns)| columns.trim().to_owned())
}

/// The field a unique violation concerns, looked up by the constraint's name in `fields`.
/// `None` when `e` is another error or a constraint no field stands for: that is a bug to log,
/// not something to tell the user.
pub fn unique_field<'a>(e: &sqlx::Error, fields: &'a [UniqueField]) -> Option<&'a UniqueField> {
    let name = violated_unique(e)?;
    fields
        .iter()
        .find(|f| f.constraints.contains(&name.as_str()))
}

#[cfg(test)]
mod tests {
    use super::constraint_in_message;

    #[test]
    fn both_backends_name_the_broken_constraint() {
        assert_eq!(
            constraint_in_message(
                "duplicate key value violates unique constraint \"products_slug_key\""
            )
            .as_deref(),
            Some("products_slug_key")
        );
        assert_eq!(
            constraint_in_message("UNIQUE constraint failed: product_variants.sku").as_deref(),
            Some("product_variants.sku")
        );
        assert_eq!(constraint_in_message("disk I/O error"), None);
    }
}
