//! The server side of the address book: the signed-in user's addresses from the auth
//! service, turned into what the pages show, and every change to them.

use super::AddressView;
use crate::error::AppError;
use crate::ssr::{redirect_with_flash, require_user, server_context};

/// The lines of an address as printed on a label.
pub fn address_lines(a: &auth::addresses::Address) -> Vec<String> {
    let country = auth::addresses::COUNTRIES
        .iter()
        .find(|(code, _)| *code == a.country)
        .map_or(a.country.as_str(), |(_, name)| name);
    let city_line = [a.postal_code.as_str(), a.city.as_str(), a.region.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    [
        a.full_name.as_str(),
        a.line1.as_str(),
        a.line2.as_str(),
        city_line.as_str(),
        country,
        a.phone.as_str(),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .map(str::to_owned)
    .collect()
}

fn to_view(a: &auth::addresses::Address) -> AddressView {
    AddressView {
        id: a.id.as_str().to_owned(),
        full_name: a.full_name.clone(),
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        city: a.city.clone(),
        region: a.region.clone(),
        postal_code: a.postal_code.clone(),
        country: a.country.clone(),
        phone: a.phone.clone(),
        is_default: a.is_default,
        lines: address_lines(a),
    }
}

fn address_id(id: &str) -> Result<auth::addresses::AddressId, AppError> {
    auth::addresses::AddressId::parse(id).map_err(|_| AppError::NotFound)
}

pub(super) async fn list_addresses() -> Result<Vec<AddressView>, AppError> {
    let ctx = server_context()?;
    let user = require_user().await?;
    let list = auth::addresses::list(&ctx.db, &user.id).await?;
    Ok(list.iter().map(to_view).collect())
}

pub(super) async fn get_address(id: String) -> Result<AddressView, AppError> {
    let ctx = server_context()?;
    let user = require_user().await?;
    let a = auth::addresses::get(&ctx.db, &user.id, &address_id(&id)?).await?;
    Ok(to_view(&a))
}

pub(super) async fn save_address(
    id: Option<String>,
    full_name: String,
    line1: String,
    line2: String,
    city: String,
    region: String,
    postal_code: String,
    country: String,
    phone: String,
    make_default: Option<String>,
) -> Result<(), AppError> {
    let ctx = server_context()?;
    let user = require_user().await?;
    let input = auth::addresses::AddressInput {
        full_name,
        line1,
        line2,
        city,
        region,
        postal_code,
        country,
        phone,
    };
    let keep = [
        ("full_name", input.full_name.as_str()),
        ("line1", input.line1.as_str()),
        ("line2", input.line2.as_str()),
        ("city", input.city.as_str()),
        ("region", input.region.as_str()),
        ("postal_code", input.postal_code.as_str()),
        ("country", input.country.as_str()),
        ("phone", input.phone.as_str()),
    ];
    let make_default = make_default.is_some_and(|v| !v.is_empty());
    let result = match id.as_deref().filter(|s| !s.is_empty()) {
        None => auth::addresses::add(&ctx.db, &ctx.clock, &user.id, &input, make_default)
            .await
            .map(|_| ()),
        Some(id) => {
            let id = address_id(id)?;
            let updated = auth::addresses::update(&ctx.db, &ctx.clock, &user.id, &id, &input).await;
            match (updated, make_default) {
                (Ok(()), true) => {
                    auth::addresses::set_default(&ctx.db, &ctx.clock, &user.id, &id).await
                }
                (other, _) => other,
            }
        }
    };
    result.map_err(|e| AppError::from(e).keeping(&keep))?;
    redirect_with_flash("/account/addresses", "address_saved");
    Ok(())
}

pub(super) async fn delete_address(id: String) -> Result<(), AppError> {
    let ctx = server_context()?;
    let user = require_user().await?;
    auth::addresses::delete(&ctx.db, &user.id, &address_id(&id)?).await?;
    redirect_with_flash("/account/addresses", "address_deleted");
    Ok(())
}

pub(super) async fn make_default_address(id: String) -> Result<(), AppError> {
    let ctx = server_context()?;
    let user = require_user().await?;
    auth::addresses::set_default(&ctx.db, &ctx.clock, &user.id, &address_id(&id)?).await?;
    redirect_with_flash("/account/addresses", "default_address");
    Ok(())
}

pub(super) async fn countries() -> Result<Vec<(String, String)>, AppError> {
    Ok(auth::addresses::COUNTRIES
        .iter()
        .map(|(c, n)| ((*c).to_owned(), (*n).to_owned()))
        .collect())
}
