//! The server side of the shipping pages: the methods as a list, one method for its form,
//! and saving one (new or changed) from the form as posted. Each checks the admin role
//! first. Prices are read in the shop's currency; the browser never chooses it.

use std::collections::HashMap;

use checkout::shipping::{self, ShippingInput, ShippingMethod, ShippingMethodId};
use shop_core::{Currency, Money};

use super::{MethodFields, ShippingMethodPage, ShippingPage, ShippingRow};
use crate::error::AppError;
use crate::ssr::{
    ServerContext, internal, parse_id, redirect_with_flash, require_role, server_context,
};

/// The form's fields besides its country checkboxes.
const FIELDS: &[&str] = &[
    "id",
    "name",
    "price",
    "free_over",
    "min_days",
    "max_days",
    "active",
];

/// The start of a country checkbox's name: `country_DE`.
const COUNTRY_PREFIX: &str = "country_";

/// Country codes the list names before it says "…".
const CODES_SHOWN: usize = 4;

/// The codes of every country the shop ships to: all a method may serve.
fn known_codes() -> Vec<&'static str> {
    auth::addresses::COUNTRIES
        .iter()
        .map(|(code, _)| *code)
        .collect()
}

/// "All 38 countries" when the method serves every one, else the count and the first few
/// codes: "5 countries: AT, CH, DE, FR, …".
fn countries_label(m: &ShippingMethod) -> String {
    let every = auth::addresses::COUNTRIES;
    if every.iter().all(|(code, _)| m.serves(code)) {
        return format!("All {} countries", every.len());
    }
    let count = m.countries.len();
    if count == 0 {
        return "None".to_owned();
    }
    let mut codes = m
        .countries
        .iter()
        .take(CODES_SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if count > CODES_SHOWN {
        codes.push_str(", …");
    }
    let noun = if count == 1 { "country" } else { "countries" };
    format!("{count} {noun}: {codes}")
}

fn row(m: &ShippingMethod) -> ShippingRow {
    ShippingRow {
        id: m.id.as_str().to_owned(),
        name: m.name.clone(),
        price: m.price.to_string(),
        free_over: m.free_over.map(|f| f.to_string()),
        countries: countries_label(m),
        delivery: m.days_label(),
        active: m.active,
    }
}

fn fields_of(m: &ShippingMethod) -> MethodFields {
    MethodFields {
        id: m.id.as_str().to_owned(),
        name: m.name.clone(),
        price: m.price.to_decimal_string(),
        free_over: m
            .free_over
            .map(Money::to_decimal_string)
            .unwrap_or_default(),
        countries: m.countries.clone(),
        min_days: m.min_days.to_string(),
        max_days: m.max_days.to_string(),
        active: m.active,
    }
}

/// A new method's form: every country ticked (most shops ship everywhere they sell), active.
fn blank_fields() -> MethodFields {
    MethodFields {
        id: String::new(),
        name: String::new(),
        price: String::new(),
        free_over: String::new(),
        countries: known_codes().into_iter().map(str::to_owned).collect(),
        min_days: String::new(),
        max_days: String::new(),
        active: true,
    }
}

pub(super) async fn list_shipping_methods() -> Result<ShippingPage, AppError> {
    let ctx = server_context()?;
    require_role(auth::Role::Admin).await?;
    let methods = shipping::all(&ctx.db).await?;
    Ok(ShippingPage {
        methods: methods.iter().map(row).collect(),
    })
}

pub(super) async fn get_shipping_method(
    id: Option<String>,
) -> Result<ShippingMethodPage, AppError> {
    let ctx = server_context()?;
    require_role(auth::Role::Admin).await?;
    let countries = auth::addresses::COUNTRIES
        .iter()
        .map(|(code, name)| ((*code).to_owned(), (*name).to_owned()))
        .collect();
    let currency = ctx.shop.currency.code().to_owned();
    let Some(id) = id.filter(|s| !s.is_empty()) else {
        return Ok(ShippingMethodPage {
            fields: blank_fields(),
            countries,
            currency,
            history: Vec::new(),
        });
    };
    let method = shipping::get(&ctx.db, &parse_id::<ShippingMethodId>(&id)?).await?;
    let (history, _) = shop_core::audit::list(
        &ctx.db,
        &shop_core::audit::Filter {
            target: Some(("shipping_method".to_owned(), method.id.as_str().to_owned())),
            ..Default::default()
        },
        1,
        30,
    )
    .await
    .map_err(internal)?;
    Ok(ShippingMethodPage {
        fields: fields_of(&method),
        countries,
        currency,
        history: history.into_iter().map(crate::admin::audit_row).collect(),
    })
}

/// The method form as posted: each field's text, and the codes of the ticked countries.
#[derive(Debug)]
struct Posted<'a> {
    id: &'a str,
    name: &'a str,
    price: &'a str,
    free_over: &'a str,
    min_days: &'a str,
    max_days: &'a str,
    active: bool,
    /// Sorted, so kept values and errors do not depend on the map's order.
    countries: Vec<String>,
}

fn text<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map_or("", String::as_str)
}

impl<'a> Posted<'a> {
    fn read(form: &'a HashMap<String, String>) -> Self {
        let mut countries: Vec<String> = form
            .iter()
            .filter(|(_, ticked)| !ticked.is_empty())
            .filter_map(|(name, _)| name.strip_prefix(COUNTRY_PREFIX))
            .map(str::to_owned)
            .collect();
        countries.sort_unstable();
        Posted {
            id: text(form, "id"),
            name: text(form, "name"),
            price: text(form, "price"),
            free_over: text(form, "free_over"),
            min_days: text(form, "min_days"),
            max_days: text(form, "max_days"),
            active: !text(form, "active").is_empty(),
            countries,
        }
    }
}

/// Refuses a post with fields the form does not have: our pages never send one. A
/// `country_XX` box for a country the shop does not know reaches the service, which names
/// it beside the countries.
fn refuse_unknown_fields(form: &HashMap<String, String>) -> Result<(), AppError> {
    // With JavaScript on, ActionForm appends the submit button's name and value, and our
    // button has neither: that empty pair arrives as the key "=" and carries nothing.
    let mut unknown: Vec<&str> = form
        .iter()
        .filter(|(k, v)| !(v.is_empty() && (k.is_empty() || k.as_str() == "=")))
        .map(|(k, _)| k.as_str())
        .filter(|k| !FIELDS.contains(k) && !k.starts_with(COUNTRY_PREFIX))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort_unstable();
    let shown: Vec<String> = unknown
        .iter()
        .take(5)
        .map(|n| n.chars().take(40).collect())
        .collect();
    Err(AppError::form(format!(
        "The form had fields a shipping method does not have ({}). Reload the page and try again.",
        shown.join(", ")
    )))
}

/// A whole number of business days.
fn days(field: &str, text: &str) -> Result<i64, AppError> {
    text.trim()
        .parse()
        .map_err(|_| AppError::field(field, "Enter a whole number of business days, like 3."))
}

/// The posted text as the service's input, prices in the shop's `currency`. The service
/// checks the rest (name, ranges, countries).
fn shipping_input(posted: &Posted<'_>, currency: Currency) -> Result<ShippingInput, AppError> {
    let price = Money::parse_decimal(posted.price, currency)
        .map_err(|_| AppError::field("price", "Enter a price like 4.90, or 0 to ship free."))?;
    let free_over = match posted.free_over.trim() {
        "" => None,
        amount => Some(Money::parse_decimal(amount, currency).map_err(|_| {
            AppError::field(
                "free_over",
                "Enter an order total like 50, or leave it empty for no threshold.",
            )
        })?),
    };
    Ok(ShippingInput {
        name: posted.name.to_owned(),
        price,
        free_over,
        countries: posted.countries.clone(),
        min_days: days("min_days", posted.min_days)?,
        max_days: days("max_days", posted.max_days)?,
        active: posted.active,
    })
}

async fn save(
    ctx: &ServerContext,
    admin: &auth::Account,
    posted: &Posted<'_>,
) -> Result<(), AppError> {
    let id = match posted.id.trim() {
        "" => None,
        id => Some(parse_id::<ShippingMethodId>(id)?),
    };
    let input = shipping_input(posted, ctx.shop.currency)?;
    let actor = shop_core::audit::Actor::user(&admin.id, admin.email.as_str());
    let codes = known_codes();
    match id {
        None => {
            shipping::create(&ctx.db, &ctx.clock, &actor, &input, &codes).await?;
        }
        Some(id) => shipping::update(&ctx.db, &ctx.clock, &actor, &id, &input, &codes).await?,
    }
    Ok(())
}

pub(super) async fn save_shipping_method(form: HashMap<String, String>) -> Result<(), AppError> {
    let ctx = server_context()?;
    let admin = require_role(auth::Role::Admin).await?;
    refuse_unknown_fields(&form)?;
    let posted = Posted::read(&form);
    let countries = posted.countries.join(",");
    let keep = [
        ("name", posted.name),
        ("price", posted.price),
        ("free_over", posted.free_over),
        ("min_days", posted.min_days),
        ("max_days", posted.max_days),
        ("active", if posted.active { "on" } else { "" }),
        ("countries", countries.as_str()),
    ];
    save(&ctx, &admin, &posted)
        .await
        .map_err(|e| e.keeping(&keep))?;
    redirect_with_flash("/admin/shipping", "shipping_method_saved");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_form_reads_ticked_countries_from_their_own_boxes() {
        let f = form(&[
            ("name", "Standard"),
            ("country_FR", "on"),
            ("country_DE", "on"),
            ("country_AT", ""),
            ("active", "on"),
        ]);
        let posted = Posted::read(&f);
        assert_eq!(posted.countries, ["DE", "FR"]);
        assert!(posted.active);
        assert_eq!(posted.price, "");
        assert!(!Posted::read(&form(&[])).active);
    }

    #[test]
    fn fields_the_form_does_not_have_are_refused() {
        let ok = form(&[("name", "Standard"), ("country_DE", "on"), ("=", "")]);
        assert_eq!(refuse_unknown_fields(&ok), Ok(()));
        let e = refuse_unknown_fields(&form(&[("name", "x"), ("position", "1")]))
            .expect_err("an unknown field is refused");
        assert_eq!(e.field_name(), None);
        assert!(e.to_string().contains("position"), "{e}");
    }

    #[test]
    fn prices_and_days_that_are_not_numbers_are_named_by_field() {
        let f = form(&[
            ("price", "4,90"),
            ("free_over", ""),
            ("min_days", "2"),
            ("max_days", "4"),
        ]);
        let input = shipping_input(&Posted::read(&f), Currency::Eur).expect("valid input");
        assert_eq!(input.price, Money::new(490, Currency::Eur));
        assert_eq!(input.free_over, None);
        assert_eq!((input.min_days, input.max_days), (2, 4));

        let bad_price = form(&[("price", "cheap"), ("min_days", "2"), ("max_days", "4")]);
        let e = shipping_input(&Posted::read(&bad_price), Currency::Eur).expect_err("refused");
        assert_eq!(e.field_name(), Some("price"));

        let bad_days = form(&[("price", "4.90"), ("min_days", "two"), ("max_days", "4")]);
        let e = shipping_input(&Posted::read(&bad_days), Currency::Eur).expect_err("refused");
        assert_eq!(e.field_name(), Some("min_days"));
    }

    #[test]
    fn the_list_says_all_countries_or_names_the_first_few() {
        let every: Vec<String> = known_codes().into_iter().map(str::to_owned).collect();
        let mut m = ShippingMethod {
            id: ShippingMethodId::new(),
            name: "Standard".to_owned(),
            price: Money::new(490, Currency::Eur),
            free_over: None,
            countries: every.clone(),
            min_days: 3,
            max_days: 5,
            active: true,
            position: 0,
        };
        assert_eq!(
            countries_label(&m),
            format!("All {} countries", every.len())
        );
        m.countries = vec!["DE".to_owned()];
        assert_eq!(countries_label(&m), "1 country: DE");
        m.countries = ["AT", "CH", "DE", "FR", "IT"].map(str::to_owned).to_vec();
        assert_eq!(countries_label(&m), "5 countries: AT, CH, DE, FR, …");
    }
}
