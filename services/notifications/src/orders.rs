//! The order mails: "order received" after placing, "payment confirmed" after payment. Both
//! list the lines and totals and link to the order's page by its signed link, which works
//! for guests and customers alike.

use checkout::{Order, OrderStatus};
use shop_core::Email;
use shop_core::mail::OutgoingEmail;

use crate::ShopInfo;
use crate::templates::esc;

/// Which order mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderMail {
    Received,
    PaymentConfirmed,
}

fn table(order: &Order) -> (Vec<String>, String) {
    let mut text = Vec::new();
    let mut html = String::from(
        "<table style=\"width:100%;border-collapse:collapse;font-size:14px\" role=\"presentation\">",
    );
    for l in &order.lines {
        let options = l
            .options
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let name = if options.is_empty() {
            l.product_name.clone()
        } else {
            format!("{} ({options})", l.product_name)
        };
        text.push(format!(
            "{} × {name} — {} each — {}",
            l.quantity, l.unit_price, l.line_total
        ));
        html.push_str(&format!(
            "<tr><td style=\"padding:6px 0;border-bottom:1px solid #e7e5e4\">{} × {}<br><span style=\"color:#57534e;font-size:12px\">SKU {} · {} each</span></td><td style=\"padding:6px 0;border-bottom:1px solid #e7e5e4;text-align:right\">{}</td></tr>",
            l.quantity,
            esc(&name),
            esc(&l.sku),
            esc(&l.unit_price.to_string()),
            esc(&l.line_total.to_string())
        ));
    }
    let shipping = if order.shipping.minor() == 0 {
        "Free".to_owned()
    } else {
        order.shipping.to_string()
    };
    let vat = format!(
        "Including VAT ({}): {}",
        checkout::pricing::rate_label(order.vat_rate_bp),
        order.vat
    );
    text.push(format!("Subtotal: {}", order.subtotal));
    text.push(format!("Shipping ({}): {shipping}", order.shipping_method));
    text.push(format!("Total: {}", order.total));
    text.push(vat.clone());
    for (label, value, strong) in [
        ("Subtotal".to_owned(), order.subtotal.to_string(), false),
        (
            format!("Shipping ({})", order.shipping_method),
            shipping,
            false,
        ),
        ("Total".to_owned(), order.total.to_string(), true),
    ] {
        let weight = if strong { "font-weight:bold;" } else { "" };
        html.push_str(&format!(
            "<tr><td style=\"padding:4px 0;{weight}\">{}</td><td style=\"padding:4px 0;text-align:right;{weight}\">{}</td></tr>",
            esc(&label),
            esc(&value)
        ));
    }
    html.push_str(&format!(
        "<tr><td colspan=\"2\" style=\"padding:4px 0;color:#57534e;font-size:12px\">{}</td></tr></table>",
        esc(&vat)
    ));
    (text, html)
}

/// The mail for `order`, linking to `link` (the order's page).
pub fn order_mail(
    shop: &ShopInfo,
    kind: OrderMail,
    order: &Order,
    link: &str,
) -> Option<OutgoingEmail> {
    let to = Email::parse(&order.email).ok()?;
    let number = order.number_label();
    let name = order.shipping_address.full_name.clone();
    let (subject, intro) = match kind {
        OrderMail::Received => (
            format!("Order {number} received"),
            format!(
                "Thank you for your order {number}. We have reserved your items; as soon as your payment is confirmed we'll send another message and get it ready to ship."
            ),
        ),
        OrderMail::PaymentConfirmed => (
            format!("Payment confirmed for order {number}"),
            format!(
                "We've received your payment of {} for order {number}. We're getting it ready; it goes out by {} ({}).",
                order.total, order.shipping_method, order.shipping_days
            ),
        ),
    };
    let address = order.shipping_address.lines().join(", ");
    let (lines_text, lines_html) = table(order);
    let mut text = vec![format!("Hello {name},"), intro.clone()];
    text.extend(lines_text);
    text.push(format!("Shipping to: {address}"));
    text.push(format!("See your order at any time: {link}"));
    text.push(format!("— {}", shop.name));
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif;color:#1c1917;max-width:560px;margin:auto\">\
         <h1 style=\"font-size:20px\">{shop}</h1><p>Hello {name},</p><p>{intro}</p>{lines_html}\
         <p>Shipping to: {address}</p>\
         <p><a href=\"{link}\" style=\"display:inline-block;background:#1c1917;color:#fff;padding:10px 16px;border-radius:6px;text-decoration:none\">View your order</a></p>\
         <p style=\"font-size:12px;color:#57534e\">{link}</p></body></html>",
        shop = esc(&shop.name),
        name = esc(&name),
        intro = esc(&intro),
        address = esc(&address),
        link = esc(link),
    );
    Some(OutgoingEmail {
        to,
        subject,
        text: text.join("\n\n"),
        html: Some(html),
    })
}

/// Whether the mail still makes sense for the order as it stands now (a "received" mail
/// for an order already paid is still sent: it is the first the shopper hears).
pub fn still_relevant(kind: OrderMail, order: &Order) -> bool {
    match kind {
        OrderMail::Received => true,
        OrderMail::PaymentConfirmed => !matches!(
            order.status,
            OrderStatus::PendingPayment | OrderStatus::Expired
        ),
    }
}
