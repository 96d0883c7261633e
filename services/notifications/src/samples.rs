//! Sample data for every template: what the admin's preview renders, and what the tests
//! render with hostile text in every field a shopper or staff member can fill in.

use shop_core::Email;
use shop_core::mail::OutgoingEmail;

use crate::ShopInfo;
use crate::orders::{
    LineView, LowStockMail, OrderMail, OrderView, ParcelView, RefundView, ReminderMail,
};
use crate::templates::{self, RenderError, Template};

fn line(quantity: i64, name: &str, options: &str, sku: &str, unit: &str, total: &str) -> LineView {
    LineView {
        quantity,
        name: name.to_owned(),
        options: options.to_owned(),
        sku: sku.to_owned(),
        unit_price: unit.to_owned(),
        total: total.to_owned(),
    }
}

/// Renders `template` with sample data. With `text`, every user-written field (names,
/// product names, addresses, carrier, tracking number, reasons) holds that text instead.
pub fn sample(
    shop: &ShopInfo,
    template: Template,
    text: Option<&str>,
) -> Result<OutgoingEmail, RenderError> {
    let t = |default: &str| text.map_or_else(|| default.to_owned(), |h| format!("{h} {default}"));
    let to = if template.for_staff() {
        shop.staff_email
            .clone()
            .unwrap_or_else(|| Email::parse("orders@example.com").expect("valid sample"))
    } else {
        Email::parse("ada.lovelace@example.com").expect("valid sample")
    };
    let link = format!("{}/orders/0190d2c4-sample?t=signed-link", shop.base_url);
    let order = OrderView {
        number: "HS-10042".to_owned(),
        name: t("Ada Lovelace"),
        email: "ada.lovelace@example.com".to_owned(),
        status: "Paid".to_owned(),
        lines: vec![
            line(
                2,
                &t("Linen shirt"),
                &t("Size: M, Colour: Sand"),
                "LIN-M-SND",
                "€49.00",
                "€98.00",
            ),
            line(1, &t("Canvas tote"), "", "TOTE-01", "€19.50", "€19.50"),
        ],
        subtotal: "€117.50".to_owned(),
        shipping: "€4.90".to_owned(),
        shipping_method: t("Standard"),
        shipping_days: "2–4 working days".to_owned(),
        total: "€122.40".to_owned(),
        vat: "€20.43".to_owned(),
        vat_rate: "20%".to_owned(),
        shipping_address: vec![
            t("Ada Lovelace"),
            t("12 Harbour Street"),
            "75011 Paris".to_owned(),
            "France".to_owned(),
        ],
        refunded: "€49.00".to_owned(),
    };
    let parcel_line = line(
        2,
        &t("Linen shirt"),
        &t("Size: M, Colour: Sand"),
        "",
        "",
        "",
    );
    let remaining = if template == Template::OrderShipped {
        vec![line(1, &t("Canvas tote"), "", "", "", "")]
    } else {
        Vec::new()
    };
    let data = OrderMail {
        order,
        link: link.clone(),
        admin_link: format!("{}/admin/orders/0190d2c4-sample", shop.base_url),
        parcel: Some(ParcelView {
            carrier: t("DHL"),
            tracking_number: t("JD014600003828"),
            tracking_url: Some(
                "https://www.dhl.com/global-en/home/tracking.html?tracking-id=JD014600003828"
                    .to_owned(),
            ),
            lines: vec![parcel_line],
        }),
        remaining,
        refund: Some(RefundView {
            amount: "€49.00".to_owned(),
            lines: vec![line(
                1,
                &t("Linen shirt"),
                &t("Size: M, Colour: Sand"),
                "LIN-M-SND",
                "€49.00",
                "€49.00",
            )],
            extra: None,
            reason: Some(t("Arrived damaged")),
        }),
        reason: Some(t(
            "Payment does not match the order: 100.00 EUR paid, 122.40 EUR due.",
        )),
    };
    match template {
        Template::Welcome
        | Template::VerifyEmail
        | Template::PasswordReset
        | Template::ConfirmNewEmail
        | Template::EmailChanged
        | Template::PasswordChanged
        | Template::RegistrationAttempted
        | Template::NewsletterWelcome => templates::render(
            shop,
            template,
            to,
            &serde_json::json!({
                "name": t("Ada"),
                "new_email": "ada@new.example.com",
                "link": format!("{}/verify-email?token=sample-token", shop.base_url),
            }),
        ),
        Template::CartReminder => templates::render(
            shop,
            template,
            to,
            &ReminderMail {
                name: t("Ada"),
                lines: vec![
                    line(
                        2,
                        &t("Linen shirt"),
                        &t("Size: M, Colour: Sand"),
                        "",
                        "€49.00",
                        "€98.00",
                    ),
                    line(1, &t("Canvas tote"), "", "", "€19.50", "€19.50"),
                ],
                total: "€117.50".to_owned(),
                cart_link: format!("{}/cart", shop.base_url),
                stop_link: format!(
                    "{}/reminders/stop?u=0190d2c4-sample&t=signed-link",
                    shop.base_url
                ),
            },
        ),
        Template::StaffLowStock => templates::render(
            shop,
            template,
            to,
            &LowStockMail {
                product: t("Linen shirt"),
                sku: "LIN-M-SND".to_owned(),
                on_hand: 3,
                threshold: 5,
                admin_link: format!("{}/admin/products/0190d2c4-sample", shop.base_url),
            },
        ),
        _ => templates::render(shop, template, to, &data),
    }
}
