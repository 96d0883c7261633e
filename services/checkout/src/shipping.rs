//! Shipping methods: what staff offer (name, price, a free-shipping threshold, the
//! countries served, estimated days), and which of them a shopper may choose.

use serde_json::json;
use shop_core::audit::{self, Actor, Change};
use shop_core::{Clock, Currency, Db, Money};

use crate::CheckoutError;

shop_core::define_id!(
    /// Identifies a shipping method.
    ShippingMethodId
);

/// Most methods a shop may have.
pub const MAX_METHODS: i64 = 50;

/// A shipping method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShippingMethod {
    pub id: ShippingMethodId,
    pub name: String,
    pub price: Money,
    /// Orders whose subtotal reaches this ship free.
    pub free_over: Option<Money>,
    /// ISO 3166-1 alpha-2 codes of the countries served.
    pub countries: Vec<String>,
    pub min_days: i64,
    pub max_days: i64,
    pub active: bool,
    pub position: i64,
}

impl ShippingMethod {
    /// Whether the method ships to `country`.
    pub fn serves(&self, country: &str) -> bool {
        self.countries.iter().any(|c| c == country)
    }

    /// What shipping an order with this subtotal costs.
    pub fn price_for(&self, subtotal: Money) -> Money {
        match self.free_over {
            Some(threshold)
                if threshold.currency() == subtotal.currency()
                    && subtotal.minor() >= threshold.minor() =>
            {
                Money::zero(self.price.currency())
            }
            _ => self.price,
        }
    }

    /// "2–4 business days", "1 business day".
    pub fn days_label(&self) -> String {
        match (self.min_days, self.max_days) {
            (a, b) if a == b && a == 1 => "1 business day".to_owned(),
            (a, b) if a == b => format!("{a} business days"),
            (a, b) => format!("{a}–{b} business days"),
        }
    }
}

/// A method as the staff's form sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShippingInput {
    pub name: String,
    pub price: Money,
    pub free_over: Option<Money>,
    pub countries: Vec<String>,
    pub min_days: i64,
    pub max_days: i64,
    pub active: bool,
}

#[derive(sqlx::FromRow)]
struct MethodRow {
    id: String,
    name: String,
    price_minor: i64,
    currency: String,
    free_over_minor: Option<i64>,
    countries: String,
    min_days: i64,
    max_days: i64,
    active: i64,
    position: i64,
}

impl MethodRow {
    fn into_method(self) -> Option<ShippingMethod> {
        let currency: Currency = self.currency.parse().ok()?;
        Some(ShippingMethod {
            id: ShippingMethodId::from_db(self.id),
            name: self.name,
            price: Money::new(self.price_minor, currency),
            free_over: self.free_over_minor.map(|m| Money::new(m, currency)),
            countries: self
                .countries
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
            min_days: self.min_days,
            max_days: self.max_days,
            active: self.active != 0,
            position: self.position,
        })
    }
}

const COLUMNS: &str = "id, name, price_minor, currency, free_over_minor, countries, min_days,
                       max_days, active, position";

/// Every method, enabled or not, in the order staff arranged them.
pub async fn all(db: &Db) -> Result<Vec<ShippingMethod>, CheckoutError> {
    let rows: Vec<MethodRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM shipping_methods ORDER BY position, created_at, id"
    ))
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(MethodRow::into_method)
        .collect())
}

/// One method, enabled or not.
pub async fn get(db: &Db, id: &ShippingMethodId) -> Result<ShippingMethod, CheckoutError> {
    let row: Option<MethodRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM shipping_methods WHERE id = $1"
    ))
    .bind(id.as_str())
    .fetch_optional(db.reader())
    .await?;
    row.and_then(MethodRow::into_method)
        .ok_or(CheckoutError::NotFound)
}

/// The methods a shopper may choose for `country`, priced in `currency`: enabled ones that
/// serve the country.
pub async fn offered(
    db: &Db,
    country: &str,
    currency: Currency,
) -> Result<Vec<ShippingMethod>, CheckoutError> {
    Ok(all(db)
        .await?
        .into_iter()
        .filter(|m| m.active && m.serves(country) && m.price.currency() == currency)
        .collect())
}

/// Trims and checks a method's fields, naming the first field that is wrong.
fn clean(input: &ShippingInput, known_countries: &[&str]) -> Result<ShippingInput, CheckoutError> {
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(CheckoutError::invalid(
            "name",
            "Give the method a name of at most 100 characters.",
        ));
    }
    if input.price.is_negative() || input.price.minor() > 100_000_000 {
        return Err(CheckoutError::invalid(
            "price",
            "The price must be between 0 and 1,000,000.",
        ));
    }
    if let Some(f) = input.free_over
        && (f.is_negative() || f.currency() != input.price.currency() || f.minor() > 1_000_000_000)
    {
        return Err(CheckoutError::invalid(
            "free_over",
            "The free-shipping threshold must be 0 or more, in the same currency.",
        ));
    }
    let mut countries: Vec<String> = input
        .countries
        .iter()
        .map(|c| c.trim().to_uppercase())
        .filter(|c| !c.is_empty())
        .collect();
    countries.sort();
    countries.dedup();
    if countries.is_empty() {
        return Err(CheckoutError::invalid(
            "countries",
            "Choose at least one country the method ships to.",
        ));
    }
    if let Some(bad) = countries
        .iter()
        .find(|c| !known_countries.contains(&c.as_str()))
    {
        return Err(CheckoutError::invalid(
            "countries",
            format!(
                "{} is not a country the shop ships to.",
                bad.chars().take(8).collect::<String>()
            ),
        ));
    }
    if !(0..=365).contains(&input.min_days) || !(input.min_days..=365).contains(&input.max_days) {
        return Err(CheckoutError::invalid(
            "max_days",
            "Estimated days run from 0 to 365, the latest no sooner than the earliest.",
        ));
    }
    Ok(ShippingInput {
        name,
        countries,
        ..input.clone()
    })
}

fn snapshot(m: &ShippingInput) -> serde_json::Value {
    json!({
        "name": m.name, "price_minor": m.price.minor(), "currency": m.price.currency().code(),
        "free_over_minor": m.free_over.map(Money::minor), "countries": m.countries,
        "min_days": m.min_days, "max_days": m.max_days, "active": m.active,
    })
}

fn input_of(m: &ShippingMethod) -> ShippingInput {
    ShippingInput {
        name: m.name.clone(),
        price: m.price,
        free_over: m.free_over,
        countries: m.countries.clone(),
        min_days: m.min_days,
        max_days: m.max_days,
        active: m.active,
    }
}

/// Adds a method (at the end of the list). `known_countries` are the codes the shop ships
/// to at all.
pub async fn create(
    db: &Db,
    clock: &Clock,
    actor: &Actor,
    input: &ShippingInput,
    known_countries: &[&str],
) -> Result<ShippingMethodId, CheckoutError> {
    let m = clean(input, known_countries)?;
    let id = ShippingMethodId::new();
    let now = clock.now().millis();
    let mut tx = db.begin().await?;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shipping_methods")
        .fetch_one(&mut *tx)
        .await?;
    if count >= MAX_METHODS {
        return Err(CheckoutError::invalid(
            "name",
            format!("A shop can have at most {MAX_METHODS} shipping methods."),
        ));
    }
    sqlx::query(
        "INSERT INTO shipping_methods (id, name, price_minor, currency, free_over_minor,
                countries, min_days, max_days, active, position, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(id.as_str())
    .bind(&m.name)
    .bind(m.price.minor())
    .bind(m.price.currency().code())
    .bind(m.free_over.map(Money::minor))
    .bind(m.countries.join(","))
    .bind(m.min_days)
    .bind(m.max_days)
    .bind(i64::from(m.active))
    .bind(count)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        clock,
        actor,
        Change {
            action: "shipping_method.created",
            target_type: "shipping_method",
            target_id: id.as_str(),
            before: None,
            after: Some(snapshot(&m)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a method (disabling it is `active: false`; orders keep their copy).
pub async fn update(
    db: &Db,
    clock: &Clock,
    actor: &Actor,
    id: &ShippingMethodId,
    input: &ShippingInput,
    known_countries: &[&str],
) -> Result<(), CheckoutError> {
    let m = clean(input, known_countries)?;
    let before = get(db, id).await?;
    let mut tx = db.begin().await?;
    let changed = sqlx::query(
        "UPDATE shipping_methods SET name = $1, price_minor = $2, currency = $3,
                free_over_minor = $4, countries = $5, min_days = $6, max_days = $7, active = $8,
                updated_at = $9
         WHERE id = $10",
    )
    .bind(&m.name)
    .bind(m.price.minor())
    .bind(m.price.currency().code())
    .bind(m.free_over.map(Money::minor))
    .bind(m.countries.join(","))
    .bind(m.min_days)
    .bind(m.max_days)
    .bind(i64::from(m.active))
    .bind(clock.now().millis())
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(CheckoutError::NotFound);
    }
    audit::record(
        &mut tx,
        clock,
        actor,
        Change {
            action: "shipping_method.updated",
            target_type: "shipping_method",
            target_id: id.as_str(),
            before: Some(snapshot(&input_of(&before))),
            after: Some(snapshot(&m)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// On a shop's first start: Standard and Express to every country it ships to, priced in
/// its currency. Does nothing once any method exists (staff may have removed these).
pub async fn ensure_defaults(
    db: &Db,
    clock: &Clock,
    currency: Currency,
    countries: &[&str],
) -> Result<(), CheckoutError> {
    // Several instances of a new shop may start at once: one makes the methods while the
    // others wait for them (a lease, as for periodic jobs), so they are never made twice.
    let setup = shop_core::leases::Leases::new(
        db.clone(),
        clock.clone(),
        shop_core::leases::Leases::process_name("setup"),
        std::time::Duration::from_secs(30),
    );
    const JOB: &str = "setup:shipping-defaults";
    for _ in 0..600 {
        let any: Option<i64> = sqlx::query_scalar("SELECT 1 FROM shipping_methods LIMIT 1")
            .fetch_optional(db.reader())
            .await?;
        if any.is_some() {
            return Ok(());
        }
        if setup.acquire(JOB).await? {
            let made = create_defaults(db, clock, currency, countries).await;
            if let Err(e) = setup.release(JOB).await {
                tracing::warn!(error = %e, "could not give the set-up lease back; it expires by itself");
            }
            return made;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A minute passed and the methods never appeared (the lease of a process that died
    // while making them expires in 30 s, and the next try makes them).
    Err(CheckoutError::Db(sqlx::Error::Protocol(
        "another process was making the default shipping methods and has not finished in a minute"
            .to_owned(),
    )))
}

/// Makes the default methods, unless another process made them meanwhile.
async fn create_defaults(
    db: &Db,
    clock: &Clock,
    currency: Currency,
    countries: &[&str],
) -> Result<(), CheckoutError> {
    let any: Option<i64> = sqlx::query_scalar("SELECT 1 FROM shipping_methods LIMIT 1")
        .fetch_optional(db.reader())
        .await?;
    if any.is_some() {
        return Ok(());
    }
    // 4.90 and 12.90, free over 50.00 (in yen, which has no minor unit: 490, 1290, 5000).
    let actor = Actor::system("setup:shipping-defaults");
    let all: Vec<String> = countries.iter().map(|c| (*c).to_owned()).collect();
    for input in [
        ShippingInput {
            name: "Standard".to_owned(),
            price: Money::new(490, currency),
            free_over: Some(Money::new(5000, currency)),
            countries: all.clone(),
            min_days: 3,
            max_days: 5,
            active: true,
        },
        ShippingInput {
            name: "Express".to_owned(),
            price: Money::new(1290, currency),
            free_over: None,
            countries: all,
            min_days: 1,
            max_days: 2,
            active: true,
        },
    ] {
        create(db, clock, &actor, &input, countries).await?;
    }
    Ok(())
}
