//! Product descriptions: Markdown in, sanitised HTML out.
//!
//! Merchants write Markdown. Raw HTML is refused with a clear message (rather than silently
//! dropped, which would publish something other than what was written), and so are links
//! and images that are not `http(s)`, `mailto` or site-relative. The rendered HTML is run
//! through a strict allow-list sanitiser as well, so even a bug in those checks cannot put
//! script on a product page.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Longest accepted description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 20_000;

/// Why a description was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkdownError {
    #[error("the description is longer than {MAX_DESCRIPTION_BYTES} bytes")]
    TooLong,
    #[error(
        "the description contains HTML ({0}); write it in Markdown, e.g. **bold**, *italic*, - lists"
    )]
    Html(String),
    #[error("links may only go to http(s), mailto or this site, not {0:?}")]
    BadLink(String),
    #[error("the description may not contain images; add them in the product's images")]
    Image,
}

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// Checks a description and renders it to safe HTML.
pub fn render(markdown: &str) -> Result<String, MarkdownError> {
    if markdown.len() > MAX_DESCRIPTION_BYTES {
        return Err(MarkdownError::TooLong);
    }
    let mut events = Vec::new();
    for event in Parser::new_ext(markdown, options()) {
        match &event {
            Event::Html(html) | Event::InlineHtml(html) => {
                let snippet: String = html.trim().chars().take(40).collect();
                return Err(MarkdownError::Html(snippet));
            }
            Event::Start(Tag::Link { dest_url, .. }) if !allowed_url(dest_url) => {
                return Err(MarkdownError::BadLink(dest_url.to_string()));
            }
            Event::Start(Tag::Image { .. }) => return Err(MarkdownError::Image),
            _ => {}
        }
        events.push(event);
    }
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    Ok(sanitize(&html))
}

fn allowed_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (lower.starts_with('/') && !lower.starts_with("//"))
        || lower.starts_with('#')
}

fn sanitize(html: &str) -> String {
    use std::collections::HashSet;
    let tags: HashSet<&str> = [
        "p",
        "br",
        "strong",
        "em",
        "del",
        "ul",
        "ol",
        "li",
        "a",
        "h2",
        "h3",
        "h4",
        "blockquote",
        "code",
        "pre",
        "hr",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    ]
    .into_iter()
    .collect();
    ammonia::Builder::default()
        .tags(tags)
        .link_rel(Some("nofollow noopener noreferrer"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .clean(html)
        .to_string()
}

/// The description as plain text (for search, meta descriptions and structured data).
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::Heading(_)
                | TagEnd::BlockQuote(_)
                | TagEnd::CodeBlock
                | TagEnd::TableCell,
            ) if !out.ends_with(' ') && !out.is_empty() => out.push(' '),
            _ => {}
        }
    }
    out.trim().to_owned()
}

/// The first `max` characters of `text`, cut at a word boundary, with an ellipsis if cut.
pub fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown_to_html() {
        let html = render("Made of **cast iron**.\n\n- seasoned\n- oven safe").unwrap();
        assert!(html.contains("<strong>cast iron</strong>"), "{html}");
        assert!(html.contains("<li>seasoned</li>"), "{html}");
    }

    #[test]
    fn escapes_text_that_looks_like_markup_but_is_not_html() {
        let html = render("Salt & pepper, 5 < 6").unwrap();
        assert!(html.contains("Salt &amp; pepper, 5 &lt; 6"), "{html}");
    }

    #[test]
    fn refuses_raw_html_and_script_links() {
        assert!(matches!(
            render("Hello <script>alert(1)</script>"),
            Err(MarkdownError::Html(_))
        ));
        assert!(matches!(
            render("<img src=x onerror=alert(1)>"),
            Err(MarkdownError::Html(_))
        ));
        assert!(matches!(
            render("[click](javascript:alert(1))"),
            Err(MarkdownError::BadLink(_))
        ));
        assert!(matches!(
            render("![x](https://example.com/a.png)"),
            Err(MarkdownError::Image)
        ));
        assert!(matches!(
            render(&"a".repeat(20_001)),
            Err(MarkdownError::TooLong)
        ));
    }

    #[test]
    fn links_get_safe_rel() {
        let html = render("[care guide](https://example.com/care)").unwrap();
        assert!(
            html.contains("rel=\"nofollow noopener noreferrer\""),
            "{html}"
        );
    }

    #[test]
    fn plain_text_and_excerpt() {
        assert_eq!(
            plain_text("**Bold** and *soft*.\n\n- one"),
            "Bold and soft. one"
        );
        assert_eq!(excerpt("one two three four", 9), "one two…");
        assert_eq!(excerpt("short", 9), "short");
    }
}
