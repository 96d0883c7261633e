//! The address book: a customer's saved shipping addresses, one of them the default.

use serde::{Deserialize, Serialize};
use shop_core::{Clock, Db, Timestamp};

use crate::{AuthError, UserId};

pub use shop_core::AddressId;

/// Countries the shop ships to: ISO 3166-1 alpha-2 code and English name.
pub const COUNTRIES: &[(&str, &str)] = &[
    ("AT", "Austria"),
    ("AU", "Australia"),
    ("BE", "Belgium"),
    ("BG", "Bulgaria"),
    ("CA", "Canada"),
    ("CH", "Switzerland"),
    ("CY", "Cyprus"),
    ("CZ", "Czechia"),
    ("DE", "Germany"),
    ("DK", "Denmark"),
    ("EE", "Estonia"),
    ("ES", "Spain"),
    ("FI", "Finland"),
    ("FR", "France"),
    ("GB", "United Kingdom"),
    ("GR", "Greece"),
    ("HR", "Croatia"),
    ("HU", "Hungary"),
    ("IE", "Ireland"),
    ("IS", "Iceland"),
    ("IT", "Italy"),
    ("JP", "Japan"),
    ("LI", "Liechtenstein"),
    ("LT", "Lithuania"),
    ("LU", "Luxembourg"),
    ("LV", "Latvia"),
    ("MT", "Malta"),
    ("NL", "Netherlands"),
    ("NO", "Norway"),
    ("NZ", "New Zealand"),
    ("PL", "Poland"),
    ("PT", "Portugal"),
    ("RO", "Romania"),
    ("SE", "Sweden"),
    ("SG", "Singapore"),
    ("SI", "Slovenia"),
    ("SK", "Slovakia"),
    ("US", "United States"),
];

/// Most addresses one account may keep.
pub const MAX_PER_USER: i64 = 20;

/// An address as typed into the form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressInput {
    pub full_name: String,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
    pub phone: String,
}

/// A saved address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub id: AddressId,
    pub full_name: String,
    pub line1: String,
    pub line2: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
    pub phone: String,
    pub is_default: bool,
    pub updated_at: Timestamp,
}

impl AddressInput {
    /// Trims every field and checks it, naming the first field that is wrong.
    pub fn validate(&self) -> Result<AddressInput, AuthError> {
        fn field(
            name: &'static str,
            value: &str,
            required: bool,
            max: usize,
        ) -> Result<String, AuthError> {
            let v = value.trim();
            if required && v.is_empty() {
                return Err(AuthError::InvalidField {
                    field: name,
                    message: "This field is required.".to_owned(),
                });
            }
            if v.chars().count() > max {
                return Err(AuthError::InvalidField {
                    field: name,
                    message: format!("Use at most {max} characters."),
                });
            }
            if v.chars().any(char::is_control) {
                return Err(AuthError::InvalidField {
                    field: name,
                    message: "Use letters, digits and punctuation only.".to_owned(),
                });
            }
            Ok(v.to_owned())
        }
        let country = self.country.trim().to_uppercase();
        if !COUNTRIES.iter().any(|(code, _)| *code == country) {
            return Err(AuthError::InvalidField {
                field: "country",
                message: "Choose a country we ship to.".to_owned(),
            });
        }
        let phone = field("phone", &self.phone, false, 30)?;
        if !phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        {
            return Err(AuthError::InvalidField {
                field: "phone",
                message: "Use digits, spaces and + - ( ) only.".to_owned(),
            });
        }
        Ok(AddressInput {
            full_name: field("full_name", &self.full_name, true, 100)?,
            line1: field("line1", &self.line1, true, 200)?,
            line2: field("line2", &self.line2, false, 200)?,
            city: field("city", &self.city, true, 100)?,
            region: field("region", &self.region, false, 100)?,
            postal_code: field("postal_code", &self.postal_code, true, 20)?,
            country,
            phone,
        })
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    full_name: String,
    line1: String,
    line2: String,
    city: String,
    region: String,
    postal_code: String,
    country: String,
    phone: String,
    is_default: i64,
    updated_at: i64,
}

const COLUMNS: &str = "id, full_name, line1, line2, city, region, postal_code, country, phone, is_default, updated_at";

fn from_row(r: Row) -> Address {
    Address {
        id: AddressId::from_db(r.id),
        full_name: r.full_name,
        line1: r.line1,
        line2: r.line2,
        city: r.city,
        region: r.region,
        postal_code: r.postal_code,
        country: r.country,
        phone: r.phone,
        is_default: r.is_default != 0,
        updated_at: Timestamp(r.updated_at),
    }
}

/// The user's addresses, default first, then newest.
pub async fn list(db: &Db, user: &UserId) -> Result<Vec<Address>, AuthError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM addresses WHERE user_id = $1 ORDER BY is_default DESC, created_at DESC, id DESC"
    ))
    .bind(user.as_str())
    .fetch_all(db.reader())
    .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// One of the user's addresses (another user's address is "not found").
pub async fn get(db: &Db, user: &UserId, id: &AddressId) -> Result<Address, AuthError> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM addresses WHERE id = $1 AND user_id = $2"
    ))
    .bind(id.as_str())
    .bind(user.as_str())
    .fetch_optional(db.reader())
    .await?;
    row.map(from_row).ok_or(AuthError::AddressNotFound)
}

/// Saves a new address. The first address (or one saved with `make_default`) becomes the
/// default.
pub async fn add(
    db: &Db,
    clock: &Clock,
    user: &UserId,
    input: &AddressInput,
    make_default: bool,
) -> Result<AddressId, AuthError> {
    let a = input.validate()?;
    let now = clock.now().millis();
    let id = AddressId::new();
    let mut tx = db.begin().await?;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM addresses WHERE user_id = $1")
        .bind(user.as_str())
        .fetch_one(&mut *tx)
        .await?;
    if count >= MAX_PER_USER {
        return Err(AuthError::InvalidField {
            field: "full_name",
            message: format!(
                "You can keep up to {MAX_PER_USER} addresses. Delete one you no longer use first."
            ),
        });
    }
    let default = make_default || count == 0;
    if default {
        clear_default(&mut tx, user).await?;
    }
    sqlx::query(
        "INSERT INTO addresses (id, user_id, full_name, line1, line2, city, region, postal_code, country, phone, is_default, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(id.as_str())
    .bind(user.as_str())
    .bind(&a.full_name)
    .bind(&a.line1)
    .bind(&a.line2)
    .bind(&a.city)
    .bind(&a.region)
    .bind(&a.postal_code)
    .bind(&a.country)
    .bind(&a.phone)
    .bind(i64::from(default))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn clear_default(conn: &mut shop_core::db::Conn, user: &UserId) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE addresses SET is_default = 0 WHERE user_id = $1 AND is_default = 1")
        .bind(user.as_str())
        .execute(conn)
        .await
        .map(|_| ())
}

/// Changes one of the user's addresses.
pub async fn update(
    db: &Db,
    clock: &Clock,
    user: &UserId,
    id: &AddressId,
    input: &AddressInput,
) -> Result<(), AuthError> {
    let a = input.validate()?;
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "UPDATE addresses SET full_name = $1, line1 = $2, line2 = $3, city = $4, region = $5,
                postal_code = $6, country = $7, phone = $8, updated_at = $9
         WHERE id = $10 AND user_id = $11",
    )
    .bind(&a.full_name)
    .bind(&a.line1)
    .bind(&a.line2)
    .bind(&a.city)
    .bind(&a.region)
    .bind(&a.postal_code)
    .bind(&a.country)
    .bind(&a.phone)
    .bind(clock.now().millis())
    .bind(id.as_str())
    .bind(user.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(AuthError::AddressNotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// Makes one of the user's addresses the default for shipping.
pub async fn set_default(
    db: &Db,
    clock: &Clock,
    user: &UserId,
    id: &AddressId,
) -> Result<(), AuthError> {
    let mut tx = db.begin().await?;
    clear_default(&mut tx, user).await?;
    let n = sqlx::query(
        "UPDATE addresses SET is_default = 1, updated_at = $1 WHERE id = $2 AND user_id = $3",
    )
    .bind(clock.now().millis())
    .bind(id.as_str())
    .bind(user.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(AuthError::AddressNotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes one of the user's addresses. If it was the default, the newest remaining
/// address becomes the default.
pub async fn delete(db: &Db, user: &UserId, id: &AddressId) -> Result<(), AuthError> {
    let mut tx = db.begin().await?;
    let was_default: Option<i64> = sqlx::query_scalar(
        "DELETE FROM addresses WHERE id = $1 AND user_id = $2 RETURNING is_default",
    )
    .bind(id.as_str())
    .bind(user.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    match was_default {
        None => return Err(AuthError::AddressNotFound),
        Some(1) => {
            sqlx::query(
                "UPDATE addresses SET is_default = 1 WHERE id = (
                     SELECT id FROM addresses WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1)",
            )
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?;
        }
        Some(_) => {}
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> AddressInput {
        AddressInput {
            full_name: " Ada Lovelace ".into(),
            line1: "12 St James's Square".into(),
            line2: String::new(),
            city: "London".into(),
            region: String::new(),
            postal_code: "SW1Y 4JH".into(),
            country: "gb".into(),
            phone: "+44 20 7946 0000".into(),
        }
    }

    #[test]
    fn a_valid_address_is_trimmed_and_the_country_upper_cased() {
        let a = valid().validate().unwrap();
        assert_eq!(a.full_name, "Ada Lovelace");
        assert_eq!(a.country, "GB");
    }

    #[test]
    fn each_bad_field_is_named() {
        let field_of = |a: AddressInput| match a.validate() {
            Err(AuthError::InvalidField { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        };
        assert_eq!(
            field_of(AddressInput {
                city: " ".into(),
                ..valid()
            }),
            "city"
        );
        assert_eq!(
            field_of(AddressInput {
                country: "XX".into(),
                ..valid()
            }),
            "country"
        );
        assert_eq!(
            field_of(AddressInput {
                phone: "call me".into(),
                ..valid()
            }),
            "phone"
        );
        assert_eq!(
            field_of(AddressInput {
                postal_code: "1".repeat(21),
                ..valid()
            }),
            "postal_code"
        );
    }
}
