//! Message bodies: a plain-text part for every message and an HTML part with the same words.

use shop_core::Email;
use shop_core::mail::OutgoingEmail;

use crate::ShopInfo;

/// Escapes text for an HTML body.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_page(shop: &ShopInfo, paragraphs: &[String]) -> String {
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", esc(p)))
        .collect();
    format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif;color:#1c1917;max-width:560px;margin:auto\">\
         <h1 style=\"font-size:20px\">{}</h1>{body}</body></html>",
        esc(&shop.name)
    )
}

/// Sent once after a newsletter sign-up.
pub fn newsletter_welcome(shop: &ShopInfo, to: Email) -> OutgoingEmail {
    let paragraphs = vec![
        format!("Thanks for signing up to the {} newsletter.", shop.name),
        "We write when there is something worth reading: new arrivals, restocks and the occasional sale.".to_owned(),
        format!("Visit the shop: {}/", shop.base_url),
    ];
    OutgoingEmail {
        to,
        subject: format!("Welcome to the {} newsletter", shop.name),
        text: paragraphs.join("\n\n"),
        html: Some(html_page(shop, &paragraphs)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_part_escapes_the_shop_name() {
        let shop = ShopInfo {
            name: "A <b>& Co".into(),
            base_url: "http://x".into(),
        };
        let mail = newsletter_welcome(&shop, Email::parse("a@example.com").unwrap());
        let html = mail.html.unwrap();
        assert!(html.contains("A &lt;b&gt;&amp; Co"));
        assert!(!html.contains("<b>&"));
        assert!(mail.text.contains("A <b>& Co"));
    }
}
