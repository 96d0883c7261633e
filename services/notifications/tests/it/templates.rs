use notifications::Template;
use notifications::samples::sample;

use crate::delivery::shop;

#[test]
fn every_template_renders_its_sample_in_html_and_text() {
    let shop = shop();
    for &t in Template::ALL {
        let mail = sample(&shop, t, None).unwrap_or_else(|e| panic!("{e}"));
        let html = mail.html.as_deref().unwrap();
        assert!(!mail.subject.trim().is_empty(), "{}", t.name());
        assert!(!mail.subject.contains('{'), "{}", t.name());
        for part in [html, mail.text.as_str()] {
            assert!(part.contains("Harbour Street"), "{}: shop name", t.name());
            assert!(!part.contains("{{") && !part.contains("{%"), "{}", t.name());
        }
        assert!(html.starts_with("<!DOCTYPE html>"), "{}", t.name());
        assert!(html.contains("#0f766e"), "{}: brand colour", t.name());
        assert!(
            html.contains("role=\"presentation\""),
            "{}: table layout",
            t.name()
        );
        assert!(!html.contains("<img"), "{}: no images needed", t.name());
        assert!(!mail.text.contains("\n\n\n"), "{}: tidy text", t.name());
        assert_eq!(
            t.for_staff(),
            mail.to.as_str() == "staff@shop.test",
            "{}",
            t.name()
        );
    }
}

#[test]
fn order_mails_show_what_they_are_about() {
    let shop = shop();
    let shipped = sample(&shop, Template::OrderShipped, None).unwrap();
    assert!(shipped.subject.contains("HS-10042"));
    assert!(shipped.text.contains("Tracking number: JD014600003828"));
    assert!(shipped.text.contains("https://www.dhl.com/"));
    let html = shipped.html.unwrap();
    // minijinja escapes `/` as `&#x2f;` in HTML, which every client reads back as `/`.
    assert!(
        html.contains("href=\"https:&#x2f;&#x2f;www.dhl.com&#x2f;"),
        "{html}"
    );
    let refund = sample(&shop, Template::RefundIssued, None).unwrap();
    assert!(refund.subject.contains("€49.00"));
    assert!(refund.text.contains("1 × Linen shirt"));
    let received = sample(&shop, Template::OrderReceived, None).unwrap();
    assert!(received.text.contains("Including VAT (20%): €20.43"));
    let low = sample(&shop, Template::StaffLowStock, None).unwrap();
    assert!(low.text.contains("3 left"));
}

#[test]
fn user_written_text_is_escaped_in_every_html_part() {
    let mut shop = shop();
    shop.name = "Harbour Street <b>&</b>".to_owned();
    let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'";
    for &t in Template::ALL {
        let mail = sample(&shop, t, Some(hostile)).unwrap();
        let html = mail.html.unwrap();
        assert!(!html.contains("<script"), "{}", t.name());
        assert!(!html.contains("<img"), "{}", t.name());
        assert!(!html.contains("<b>&</b>"), "{}", t.name());
        if t != Template::NewsletterWelcome {
            assert!(
                html.contains("&lt;script&gt;"),
                "{}: the text is shown, escaped",
                t.name()
            );
        }
        // The plain-text part is not HTML: it keeps the text as written.
        assert!(
            mail.text.contains("Harbour Street <b>&</b>"),
            "{}",
            t.name()
        );
    }
}
