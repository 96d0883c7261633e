//! The product and variant forms as the browser sends them (all text), parsed into the
//! catalog's inputs. Prices are parsed in the product's own currency, which the server reads;
//! the browser never chooses it.

use super::{ProductFields, VariantFields};
use crate::error::AppError;

impl VariantFields {
    pub(super) fn is_blank(&self) -> bool {
        [
            &self.sku,
            &self.options,
            &self.price,
            &self.compare_at,
            &self.weight,
            &self.stock,
        ]
        .iter()
        .all(|f| f.trim().is_empty())
    }
}

/// Parses "name: value" pairs separated by new lines or `;`.
fn parse_pairs(field: &str, text: &str) -> Result<Vec<(String, String)>, AppError> {
    let mut out = Vec::new();
    for part in text.split(['\n', ';']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((name, value)) = part.split_once(':') else {
            return Err(AppError::field(
                field,
                format!("Write each as name: value (\"{part}\" has no colon)."),
            ));
        };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() || value.is_empty() {
            return Err(AppError::field(
                field,
                format!("\"{part}\" needs both a name and a value."),
            ));
        }
        out.push((name.to_owned(), value.to_owned()));
    }
    Ok(out)
}

pub(super) fn pairs_text(pairs: &[(String, String)], separator: &str) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(separator)
}

pub(super) fn whole_number(field: &str, text: &str, label: &str) -> Result<Option<i64>, AppError> {
    match text.trim() {
        "" => Ok(None),
        t => t
            .parse::<i64>()
            .map(Some)
            .map_err(|_| AppError::field(field, format!("{label} is a whole number, like 12."))),
    }
}

pub(super) fn product_input(
    f: &ProductFields,
) -> Result<catalog::products::ProductInput, AppError> {
    Ok(catalog::products::ProductInput {
        name: f.name.clone(),
        slug: f.slug.clone(),
        description: f.description.clone(),
        brand: f.brand.clone(),
        category_id: f.category_id.clone(),
        extra_category_ids: f.extra.clone().unwrap_or_default(),
        status: None,
        attributes: parse_pairs("attributes", &f.attributes)?,
        seo_title: f.seo_title.clone(),
        seo_description: f.seo_description.clone(),
        featured: f.featured.is_some(),
        vendor_id: None,
    })
}

pub(super) fn variant_input(
    v: &VariantFields,
    currency: shop_core::Currency,
) -> Result<catalog::variants::VariantInput, AppError> {
    let price = catalog::variants::parse_price("price", &v.price, currency)?;
    let compare_at = match v.compare_at.trim() {
        "" => None,
        c => Some(catalog::variants::parse_price("compare_at", c, currency)?),
    };
    let sku = shop_core::Sku::parse(&v.sku).map_err(|e| AppError::field("sku", e.to_string()))?;
    Ok(catalog::variants::VariantInput {
        sku,
        options: parse_pairs("options", &v.options)?,
        price,
        compare_at,
        weight_grams: whole_number("weight", &v.weight, "The weight in grams")?,
        low_stock_threshold: whole_number("threshold", &v.threshold, "The low-stock level")?
            .unwrap_or(5),
        initial_stock: whole_number("stock", &v.stock, "Stock")?.unwrap_or(0),
        archived: v.archived.is_some(),
    })
}
