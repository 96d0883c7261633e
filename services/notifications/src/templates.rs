//! Mail templates, rendered with minijinja from the files in `templates/`.
//!
//! Every message has three templates: `<name>.subject`, `<name>.html` (auto-escaped, a
//! table layout with inline styles that common mail clients show alike, no images) and
//! `<name>.txt`. Both bodies extend a layout that carries the shop's name and colour.
//! Undefined variables are errors, so a template that names a field its data lacks fails
//! its test instead of sending a hole.

use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use shop_core::Email;
use shop_core::mail::OutgoingEmail;

use crate::ShopInfo;

/// Declares the templates: the enum, their names, labels and subjects, and the sources
/// compiled into the binary.
macro_rules! mail_templates {
    ($($variant:ident => $name:literal, $label:literal, $subject:literal, $audience:ident, $secret:literal;)*) => {
        /// One kind of message.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Template { $($variant),* }

        impl Template {
            /// Every template, in the order the admin lists them.
            pub const ALL: &'static [Template] = &[$(Template::$variant),*];

            /// The stable name stored in the notification log.
            pub fn name(self) -> &'static str {
                match self { $(Template::$variant => $name),* }
            }

            /// What the admin shows.
            pub fn label(self) -> &'static str {
                match self { $(Template::$variant => $label),* }
            }

            /// Whether the message goes to the shop's staff rather than a shopper.
            pub fn for_staff(self) -> bool {
                match self { $(Template::$variant => Audience::$audience == Audience::Staff),* }
            }

            /// Whether the message carries a one-time link: its stored copy has the link
            /// masked and it is never resent from the log.
            pub fn secret(self) -> bool {
                match self { $(Template::$variant => $secret),* }
            }

            fn sources(self) -> [(&'static str, &'static str); 3] {
                match self {
                    $(Template::$variant => [
                        (concat!($name, ".subject"), $subject),
                        (concat!($name, ".html"), include_str!(concat!("../templates/", $name, ".html"))),
                        (concat!($name, ".txt"), include_str!(concat!("../templates/", $name, ".txt"))),
                    ]),*
                }
            }
        }
    };
}

#[derive(PartialEq, Eq)]
enum Audience {
    Shopper,
    Staff,
}

mail_templates! {
    Welcome => "welcome", "Welcome and address confirmation", "Confirm your email address", Shopper, true;
    VerifyEmail => "verify_email", "Address confirmation (asked again)", "Confirm your email address", Shopper, true;
    PasswordReset => "password_reset", "Password reset", "Reset your password", Shopper, true;
    ConfirmNewEmail => "confirm_new_email", "New address confirmation", "Confirm your new email address", Shopper, true;
    EmailChanged => "email_changed", "Email address changed", "Your email address was changed", Shopper, false;
    PasswordChanged => "password_changed", "Password changed", "Your password was changed", Shopper, false;
    RegistrationAttempted => "registration_attempted", "Sign-up with an existing address", "Someone tried to register with your address", Shopper, false;
    NewsletterWelcome => "newsletter_welcome", "Newsletter welcome", "Welcome to the {{ shop.name }} newsletter", Shopper, false;
    OrderReceived => "order_received", "Order received", "Order {{ order.number }} received", Shopper, false;
    PaymentConfirmed => "payment_confirmed", "Payment confirmed", "Payment confirmed for order {{ order.number }}", Shopper, false;
    OrderShipped => "order_shipped", "Order shipped", "{% if remaining %}Part of your order{% else %}Your order{% endif %} {{ order.number }} is on its way", Shopper, false;
    OrderDelivered => "order_delivered", "Order delivered", "Your order {{ order.number }} was delivered", Shopper, false;
    OrderCancelled => "order_cancelled", "Order cancelled", "Your order {{ order.number }} was cancelled", Shopper, false;
    RefundIssued => "refund_issued", "Refund issued", "Refund of {{ refund.amount }} on order {{ order.number }}", Shopper, false;
    CartReminder => "cart_reminder", "Abandoned cart reminder", "You left something in your cart at {{ shop.name }}", Shopper, false;
    StaffNewOrder => "staff_new_order", "Staff: new order", "New order {{ order.number }}: {{ order.total }}", Staff, false;
    StaffLowStock => "staff_low_stock", "Staff: low stock", "Low stock: {{ product }} ({{ on_hand }} left)", Staff, false;
    StaffPaymentFlagged => "staff_payment_flagged", "Staff: payment flagged for review", "Order {{ order.number }} flagged for review", Staff, false;
}

impl Template {
    pub fn parse(name: &str) -> Option<Template> {
        Template::ALL.iter().copied().find(|t| t.name() == name)
    }
}

const LAYOUTS: [(&str, &str); 4] = [
    ("layout.html", include_str!("../templates/layout.html")),
    ("layout.txt", include_str!("../templates/layout.txt")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("macros.txt", include_str!("../templates/macros.txt")),
];

/// Why a message could not be rendered (a template defect, caught by the tests).
#[derive(Debug, thiserror::Error)]
#[error("mail template {template}: {detail}")]
pub struct RenderError {
    template: String,
    detail: String,
}

fn environment() -> Result<&'static Environment<'static>, RenderError> {
    static ENV: OnceLock<Result<Environment<'static>, RenderError>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        let sources = LAYOUTS
            .into_iter()
            .chain(Template::ALL.iter().flat_map(|t| t.sources()));
        for (name, source) in sources {
            env.add_template(name, source).map_err(|e| RenderError {
                template: name.to_owned(),
                detail: e.to_string(),
            })?;
        }
        Ok(env)
    })
    .as_ref()
    .map_err(|e| RenderError {
        template: e.template.clone(),
        detail: e.detail.clone(),
    })
}

#[derive(Serialize)]
struct Frame<'a, T: Serialize> {
    shop: &'a ShopInfo,
    subject: &'a str,
    #[serde(flatten)]
    data: &'a T,
}

fn render_one<T: Serialize>(name: String, frame: &Frame<'_, T>) -> Result<String, RenderError> {
    let failed = |e: minijinja::Error| RenderError {
        template: name.clone(),
        detail: format!("{e:#}"),
    };
    environment()?
        .get_template(&name)
        .map_err(failed)?
        .render(frame)
        .map_err(failed)
}

/// Collapses the blank lines that template tags leave behind into single blank lines.
fn tidy_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines().map(str::trim_end) {
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out.push('\n');
    out
}

/// Renders `template` for `data` (whose fields the template names) to `to`.
pub fn render<T: Serialize>(
    shop: &ShopInfo,
    template: Template,
    to: Email,
    data: &T,
) -> Result<OutgoingEmail, RenderError> {
    let name = template.name();
    let subject = render_one(
        format!("{name}.subject"),
        &Frame {
            shop,
            subject: "",
            data,
        },
    )?;
    let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    let frame = Frame {
        shop,
        subject: &subject,
        data,
    };
    let html = render_one(format!("{name}.html"), &frame)?;
    let text = tidy_text(&render_one(format!("{name}.txt"), &frame)?);
    Ok(OutgoingEmail {
        to,
        subject,
        text,
        html: Some(html),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_parts_keep_one_blank_line_between_paragraphs() {
        assert_eq!(tidy_text("a  \n\n\n\nb\nc\n\n"), "a\n\nb\nc\n");
    }

    #[test]
    fn every_template_parses_and_names_are_unique() {
        environment().unwrap();
        let mut names: Vec<_> = Template::ALL.iter().map(|t| t.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Template::ALL.len());
        for t in Template::ALL {
            assert_eq!(Template::parse(t.name()), Some(*t));
        }
    }
}
