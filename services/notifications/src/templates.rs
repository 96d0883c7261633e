//! Message bodies: a plain-text part for every message and an HTML part with the same words.

use shop_core::Email;
use shop_core::mail::OutgoingEmail;

use auth::users::MailToken;

use crate::ShopInfo;

/// Escapes text for an HTML body.
pub(crate) fn esc(s: &str) -> String {
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

/// A mail with greeting, paragraphs, and one link on its own line.
fn with_link(
    shop: &ShopInfo,
    to: Email,
    subject: String,
    name: &str,
    before: &[String],
    link: String,
    after: &[String],
) -> OutgoingEmail {
    let mut paragraphs = vec![format!("Hello {name},")];
    paragraphs.extend_from_slice(before);
    let text_link = link.clone();
    let mut text = paragraphs.clone();
    text.push(text_link);
    text.extend_from_slice(after);
    text.push(format!("— {}", shop.name));
    let mut html_paragraphs: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", esc(p)))
        .collect();
    html_paragraphs.push_str(&format!(
        "<p><a href=\"{0}\" style=\"display:inline-block;background:#1c1917;color:#fff;padding:10px 16px;border-radius:6px;text-decoration:none\">{1}</a></p><p style=\"font-size:12px;color:#57534e\">{0}</p>",
        esc(&link),
        esc(&subject)
    ));
    html_paragraphs.extend(after.iter().map(|p| format!("<p>{}</p>", esc(p))));
    OutgoingEmail {
        to,
        subject,
        text: text.join("\n\n"),
        html: Some(format!(
            "<!DOCTYPE html><html><body style=\"font-family:sans-serif;color:#1c1917;max-width:560px;margin:auto\"><h1 style=\"font-size:20px\">{}</h1>{html_paragraphs}</body></html>",
            esc(&shop.name)
        )),
    }
}

fn token_link(shop: &ShopInfo, path: &str, token: &str) -> String {
    format!("{}{path}?token={token}", shop.base_url)
}

/// After sign-up (`welcome`) or when asked again: the verification link.
pub fn welcome_verify(shop: &ShopInfo, t: &MailToken, welcome: bool) -> OutgoingEmail {
    let mut before = Vec::new();
    if welcome {
        before.push(format!(
            "Welcome to {}! To finish creating your account, confirm that this is your email address by opening this link (it signs you in):",
            shop.name
        ));
    } else {
        before.push(
            "Please confirm that this is your email address by opening this link:".to_owned(),
        );
    }
    with_link(
        shop,
        t.to.clone(),
        "Confirm your email address".to_owned(),
        &t.display_name,
        &before,
        token_link(shop, "/verify-email", &t.token),
        &["The link works once and expires in 24 hours. If you did not create an account, you can ignore this message.".to_owned()],
    )
}

/// The password-reset link.
pub fn password_reset(shop: &ShopInfo, t: &MailToken) -> OutgoingEmail {
    with_link(
        shop,
        t.to.clone(),
        "Reset your password".to_owned(),
        &t.display_name,
        &["Someone (hopefully you) asked to reset the password of your account. To choose a new password, open this link:".to_owned()],
        token_link(shop, "/reset-password", &t.token),
        &["The link works once and expires in 1 hour. If you did not ask for this, ignore this message: your password stays as it is.".to_owned()],
    )
}

/// Sent to the new address when a user asks to move their account there.
pub fn confirm_new_email(shop: &ShopInfo, t: &MailToken) -> OutgoingEmail {
    with_link(
        shop,
        t.to.clone(),
        "Confirm your new email address".to_owned(),
        &t.display_name,
        &[format!("You asked to use this address for your {} account. To confirm, open this link:", shop.name)],
        token_link(shop, "/confirm-email", &t.token),
        &["The link works once and expires in 24 hours. Until then your account keeps its old address.".to_owned()],
    )
}

/// Sent to the old address after the account moved to a new one.
pub fn email_changed(shop: &ShopInfo, old: Email, new_email: &str) -> OutgoingEmail {
    let paragraphs = vec![
        format!("The email address of your {} account was changed to {new_email}.", shop.name),
        "From now on, sign in with the new address. If you did not make this change, reset your password and contact us straight away.".to_owned(),
        format!("{}/forgot-password", shop.base_url),
    ];
    OutgoingEmail {
        to: old,
        subject: "Your email address was changed".to_owned(),
        text: paragraphs.join("\n\n"),
        html: Some(html_page(shop, &paragraphs)),
    }
}

/// Sent after a password change or reset.
pub fn password_changed(shop: &ShopInfo, to: Email, name: &str) -> OutgoingEmail {
    let paragraphs = vec![
        format!("Hello {name},"),
        format!(
            "The password of your {} account was just changed, and every other session was signed out.",
            shop.name
        ),
        "If this was you, there is nothing to do. If not, reset your password now and contact us:"
            .to_owned(),
        format!("{}/forgot-password", shop.base_url),
    ];
    OutgoingEmail {
        to,
        subject: "Your password was changed".to_owned(),
        text: paragraphs.join("\n\n"),
        html: Some(html_page(shop, &paragraphs)),
    }
}

/// Sent when someone tries to register with the address of an existing account.
pub fn registration_attempted(shop: &ShopInfo, to: Email, name: &str) -> OutgoingEmail {
    let paragraphs = vec![
        format!("Hello {name},"),
        format!(
            "Someone just tried to create a {} account with this email address, which already has one: yours. No new account was made.",
            shop.name
        ),
        format!("If it was you, sign in here: {}/login", shop.base_url),
        format!(
            "Forgotten your password? Choose a new one here: {}/forgot-password",
            shop.base_url
        ),
        "If it was not you, there is nothing to do: your account is unchanged.".to_owned(),
    ];
    OutgoingEmail {
        to,
        subject: "Someone tried to register with your address".to_owned(),
        text: paragraphs.join("\n\n"),
        html: Some(html_page(shop, &paragraphs)),
    }
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

    #[test]
    fn link_mails_carry_the_token_link_in_both_parts() {
        let shop = ShopInfo {
            name: "Shop".into(),
            base_url: "https://shop.example".into(),
        };
        let t = MailToken {
            to: Email::parse("ada@example.com").unwrap(),
            display_name: "Ada <3".into(),
            token: "tok_123".into(),
        };
        let mail = password_reset(&shop, &t);
        let link = "https://shop.example/reset-password?token=tok_123";
        assert!(mail.text.contains(link));
        assert!(mail.text.starts_with("Hello Ada <3,"));
        let html = mail.html.unwrap();
        assert!(html.contains(&format!("href=\"{link}\"")));
        assert!(html.contains("Ada &lt;3"));
    }
}
