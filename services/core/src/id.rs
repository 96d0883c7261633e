//! Application-generated ids.
//!
//! Ids are UUIDv7 (time-ordered, so new rows append to indexes) stored as their canonical
//! text form, which both SQLite and PostgreSQL index and compare the same way. Each kind of
//! entity gets its own newtype via [`define_id!`] so a `UserId` can never be passed where an
//! `OrderId` is expected.

/// Defines a newtype id over a UUIDv7 string.
///
/// ```
/// shop_core::define_id!(
///     /// Identifies a widget.
///     WidgetId
/// );
/// let id = WidgetId::new();
/// assert_eq!(WidgetId::parse(id.as_str()).unwrap(), id);
/// assert!(WidgetId::parse("not-an-id").is_err());
/// ```
#[macro_export]
macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, sqlx::Type)]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self($crate::id::new_uuid_v7())
            }

            /// Parses an id that came from outside (a URL, a form), refusing anything that
            /// is not a UUID.
            pub fn parse(s: &str) -> Result<Self, $crate::id::InvalidId> {
                $crate::id::parse_uuid(s).map(Self)
            }

            /// An id read back from the database, which only holds ids this code wrote.
            pub fn from_db(s: String) -> Self {
                Self(s)
            }

            /// The canonical text form, as stored in the database.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::id::InvalidId;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

// The ids the domains pass to each other live here, so that every service can name them
// (catalog records a product's vendor as a `UserId`, a cart line holds a `VariantId`)
// without depending on the service that owns them.
define_id!(
    /// Identifies a user account (auth).
    UserId
);
define_id!(
    /// Identifies a saved address (auth).
    AddressId
);
define_id!(
    /// Identifies a category (catalog).
    CategoryId
);
define_id!(
    /// Identifies a product (catalog).
    ProductId
);
define_id!(
    /// Identifies a sellable variant, one SKU (catalog).
    VariantId
);
define_id!(
    /// Identifies a cart (cart).
    CartId
);
define_id!(
    /// Identifies a line of a cart (cart).
    LineId
);
define_id!(
    /// Identifies an order (checkout).
    OrderId
);

/// A string that is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id")]
pub struct InvalidId;

#[doc(hidden)]
pub fn new_uuid_v7() -> String {
    uuid::Uuid::now_v7().hyphenated().to_string()
}

#[doc(hidden)]
pub fn parse_uuid(s: &str) -> Result<String, InvalidId> {
    uuid::Uuid::try_parse(s.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| InvalidId)
}

#[cfg(test)]
mod tests {
    define_id!(TestId);

    #[test]
    fn new_ids_are_unique_and_time_ordered() {
        let a = TestId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = TestId::new();
        assert_ne!(a, b);
        assert!(a < b, "UUIDv7 text sorts by creation time");
        assert_eq!(TestId::from_db(a.as_str().to_owned()), a);
    }

    #[test]
    fn parse_normalises_case_and_refuses_garbage() {
        let id = TestId::new();
        let upper = id.as_str().to_uppercase();
        assert_eq!(TestId::parse(&upper).unwrap(), id);
        assert_eq!(
            TestId::parse("1; DROP TABLE users").unwrap_err(),
            super::InvalidId
        );
        assert!(TestId::parse("").is_err());
    }
}
