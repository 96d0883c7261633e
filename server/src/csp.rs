//! The inline scripts of a rendered page, for its Content-Security-Policy.
//!
//! A page's policy allows scripts from this origin and, by hash, exactly the inline scripts
//! the render itself wrote (the hydration bootstrap and the page's serialized data). The
//! render marks those with a nonce made for it alone (the page's `nonce` attribute), which
//! stored content written before the render cannot know; only scripts carrying it are
//! hashed. The hashes are worked out from the finished HTML, so a page kept in the page cache
//! carries a policy as strict as a fresh one and its body never changes per request (it is
//! compressed once; the nonce in it is worth nothing after the render, as the policy names
//! no nonce). Anything else inline (an injected `<script>`, an `onclick`) does not run.
//!
//! The scan follows the HTML tokenizer as far as the renderer's output needs: markup is read
//! tag by tag, quoted attribute values are skipped whole, comments are skipped, and the text
//! of raw-text elements (`script`, `style`, `textarea`, `title`, and `noscript`, which a
//! browser running scripts reads as text) runs to its own end tag. So a
//! `<script>` written inside an attribute value or inside a textarea's text is text, as a
//! browser reads it, and never gets a hash.

use base64::Engine;
use sha2::{Digest, Sha256};

/// The slots of the page frame in `html` (start tags with a `data-frame` attribute, which
/// only the layout writes): each slot's name and the index right after its start tag, in
/// document order. Read with the same tokenizer rules, so text that merely looks like such a
/// tag (in an attribute value, a script, a comment) is not a slot.
pub fn frame_slots(html: &[u8]) -> Vec<(String, usize)> {
    let mut slots = Vec::new();
    walk(html, |_, tag, _| {
        if let Some(name) = tag.frame {
            slots.push((String::from_utf8_lossy(name).into_owned(), tag.end));
        }
    });
    slots
}

/// What the page policy does with a rendered page's scripts, from one scan of it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PageScripts {
    /// For a page without islands (no `<leptos-island>` start tag), what it leaves out, as
    /// ranges of the page in document order: it has nothing to hydrate, so it loads no wasm
    /// and runs no script. That is the bootstrap `HydrationScripts` writes (from its
    /// `<link rel="modulepreload">` to the end of the render's module `<script>` after it, the
    /// wasm's preload between them) and every other script the render wrote (those carrying
    /// its nonce: the serialized-resources scripts). Empty when the page has an island.
    pub cut: Vec<std::ops::Range<usize>>,
    /// For a page with islands, the `'sha256-…'` source of every inline script (a `<script>`
    /// element without `src`) whose `nonce` attribute is the render's, in document order,
    /// without repeats. Empty when the page has none left after the cut.
    pub hashes: Vec<String>,
}

/// Reads `html`'s scripts for the page policy (see [`PageScripts`]).
pub fn page_scripts(html: &[u8], nonce: &str) -> PageScripts {
    let (islands, cut, hashes) = scan_scripts(html, nonce);
    if islands {
        PageScripts {
            cut: Vec::new(),
            hashes,
        }
    } else {
        PageScripts {
            cut,
            hashes: Vec::new(),
        }
    }
}

/// `html` without the ranges `cut` (in document order, not overlapping).
pub fn without(html: &[u8], cut: &[std::ops::Range<usize>]) -> Vec<u8> {
    let mut kept = Vec::with_capacity(html.len());
    let mut at = 0;
    for range in cut {
        kept.extend_from_slice(&html[at..range.start]);
        at = range.end;
    }
    kept.extend_from_slice(&html[at..]);
    kept
}

/// Whether `html` has an island, what it would cut without one, and the hashes of the
/// render's inline scripts (see [`PageScripts`]).
fn scan_scripts(html: &[u8], nonce: &str) -> (bool, Vec<std::ops::Range<usize>>, Vec<String>) {
    let mut islands = false;
    let mut cut: Vec<std::ops::Range<usize>> = Vec::new();
    let mut hashes: Vec<String> = Vec::new();
    // The start of the bootstrap's preload link, until the module script that ends it (the
    // first after it: another script of the render, such as live reload's, may come first).
    let mut preload = None;
    let mut seen_preload = false;
    walk(html, |name, tag, text| match name {
        b"leptos-island" => islands = true,
        b"link" if !seen_preload && tag.rel == Some(b"modulepreload".as_slice()) => {
            preload = Some(tag.start);
            seen_preload = true;
        }
        b"script" if !tag.has_src && tag.nonce == Some(nonce.as_bytes()) => {
            let start = if tag.module { preload.take() } else { None };
            cut.push(start.unwrap_or(tag.start)..tag.after);
            if let Some(text) = text {
                let digest = Sha256::digest(&html[text]);
                let source = format!(
                    "'sha256-{}'",
                    base64::engine::general_purpose::STANDARD.encode(digest)
                );
                if !hashes.contains(&source) {
                    hashes.push(source);
                }
            }
        }
        _ => {}
    });
    (islands, cut, hashes)
}

/// Calls `visit` with every start tag of `html` in document order: its lowercase name, what
/// it says, and for a raw-text element the range of its text.
fn walk(html: &[u8], mut visit: impl FnMut(&[u8], &Tag<'_>, Option<std::ops::Range<usize>>)) {
    let mut at = 0;
    while let Some(offset) = memchr(b'<', &html[at..]) {
        let start = at + offset;
        let rest = &html[start..];
        if rest.starts_with(b"<!--") {
            at = find(rest, b"-->").map_or(html.len(), |end| start + end + 3);
            continue;
        }
        let Some(name) = tag_name(&rest[1..]) else {
            // A `<` that starts no tag (`a < b` in text) is text.
            at = start + 1;
            continue;
        };
        let mut tag = scan_tag(html, start + 1 + name.len());
        tag.start = start;
        let end_of_tag = tag.end;
        let lower = name.to_ascii_lowercase();
        at = end_of_tag;
        if !matches!(
            lower.as_slice(),
            b"script" | b"style" | b"textarea" | b"title" | b"noscript"
        ) {
            visit(&lower, &tag, None);
            continue;
        }
        let (text_end, after) = raw_text_end(html, end_of_tag, &lower);
        tag.after = after;
        visit(&lower, &tag, Some(end_of_tag..text_end));
        at = after;
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The name of a start tag that begins right after a `<` (an ASCII letter, then anything up
/// to whitespace, `/` or `>`), or `None` (an end tag, a doctype, or text).
fn tag_name(after_lt: &[u8]) -> Option<&[u8]> {
    if !after_lt.first()?.is_ascii_alphabetic() {
        return None;
    }
    let len = after_lt
        .iter()
        .position(|&b| b.is_ascii_whitespace() || b == b'/' || b == b'>')
        .unwrap_or(after_lt.len());
    Some(&after_lt[..len])
}

/// What a start tag says that matters here.
struct Tag<'a> {
    /// The index of its `<`.
    start: usize,
    /// The index after its `>`.
    end: usize,
    /// For a raw-text element, the index after its end tag; otherwise `end`.
    after: usize,
    /// `type="module"`.
    module: bool,
    /// The `rel` attribute's value.
    rel: Option<&'a [u8]>,
    has_src: bool,
    nonce: Option<&'a [u8]>,
    /// The `data-frame` attribute's value.
    frame: Option<&'a [u8]>,
}

/// Reads a start tag's attributes from `at` to its `>`. Quoted values are skipped whole.
fn scan_tag(html: &[u8], mut at: usize) -> Tag<'_> {
    let mut has_src = false;
    let mut nonce = None;
    let mut frame = None;
    let mut module = false;
    let mut rel = None;
    while at < html.len() {
        match html[at] {
            b'>' => {
                return Tag {
                    start: 0,
                    end: at + 1,
                    after: at + 1,
                    module,
                    rel,
                    has_src,
                    nonce,
                    frame,
                };
            }
            b if b.is_ascii_whitespace() || b == b'/' => at += 1,
            _ => {
                let name_start = at;
                while at < html.len()
                    && !html[at].is_ascii_whitespace()
                    && !matches!(html[at], b'=' | b'>' | b'/')
                {
                    at += 1;
                }
                let name = &html[name_start..at];
                if name.eq_ignore_ascii_case(b"src") {
                    has_src = true;
                }
                while at < html.len() && html[at].is_ascii_whitespace() {
                    at += 1;
                }
                if at < html.len() && html[at] == b'=' {
                    at += 1;
                    while at < html.len() && html[at].is_ascii_whitespace() {
                        at += 1;
                    }
                    let value_start;
                    let value_end;
                    match html.get(at) {
                        Some(&quote @ (b'"' | b'\'')) => {
                            value_start = at + 1;
                            value_end =
                                memchr(quote, &html[at + 1..]).map_or(html.len(), |i| at + 1 + i);
                            at = (value_end + 1).min(html.len());
                        }
                        _ => {
                            value_start = at;
                            while at < html.len()
                                && !html[at].is_ascii_whitespace()
                                && html[at] != b'>'
                            {
                                at += 1;
                            }
                            value_end = at;
                        }
                    }
                    if name.eq_ignore_ascii_case(b"nonce") {
                        nonce = Some(&html[value_start..value_end]);
                    } else if name.eq_ignore_ascii_case(b"data-frame") {
                        frame = Some(&html[value_start..value_end]);
                    } else if name.eq_ignore_ascii_case(b"rel") {
                        rel = Some(&html[value_start..value_end]);
                    } else if name.eq_ignore_ascii_case(b"type") {
                        module = html[value_start..value_end].eq_ignore_ascii_case(b"module");
                    }
                }
            }
        }
    }
    Tag {
        start: 0,
        end: html.len(),
        after: html.len(),
        module,
        rel,
        has_src,
        nonce,
        frame,
    }
}

/// Where the text of raw-text element `name` (lowercase) that starts at `at` ends: the index
/// of its end tag `</name` (case-insensitive, followed by whitespace, `/` or `>`) and the index
/// after that end tag's `>`. Without an end tag the text runs to the end of the document.
fn raw_text_end(html: &[u8], at: usize, name: &[u8]) -> (usize, usize) {
    let mut from = at;
    while let Some(offset) = find(&html[from..], b"</") {
        let end = from + offset;
        let after_name = end + 2 + name.len();
        if html.len() >= after_name
            && html[end + 2..after_name].eq_ignore_ascii_case(name)
            && html
                .get(after_name)
                .is_none_or(|&b| b.is_ascii_whitespace() || b == b'/' || b == b'>')
        {
            let close =
                memchr(b'>', &html[after_name..]).map_or(html.len(), |i| after_name + i + 1);
            return (end, close);
        }
        from = end + 2;
    }
    (html.len(), html.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hashes the policy would name if the page had an island.
    fn inline_script_hashes(html: &[u8], nonce: &str) -> Vec<String> {
        scan_scripts(html, nonce).2
    }

    fn idle_scripts(html: &[u8], nonce: &str) -> Vec<std::ops::Range<usize>> {
        page_scripts(html, nonce).cut
    }

    fn hash(script: &str) -> String {
        format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()))
        )
    }

    #[test]
    fn every_inline_script_of_the_render_is_hashed_once_and_external_ones_not_at_all() {
        let html = r#"<!DOCTYPE html><html><head>
            <script type="module" nonce="n0nce+/=">import('/pkg/a.js')</script>
            <SCRIPT NONCE='n0nce+/='>window.a = 1</SCRIPT >
            <script nonce=n0nce+/= src="/pkg/b.js"></script>
            <script defer nonce="n0nce+/=" src=/pkg/c.js>ignored</script>
            </head><body><script nonce="n0nce+/=">window.a = 1</script><script nonce="n0nce+/="></script></body></html>"#;
        assert_eq!(
            inline_script_hashes(html.as_bytes(), "n0nce+/="),
            vec![hash("import('/pkg/a.js')"), hash("window.a = 1"), hash(""),]
        );
    }

    #[test]
    fn scripts_without_the_renders_nonce_are_left_out() {
        let html = r#"<p>stored text</p><script>alert(1)</script>
            <script nonce="guess">alert(2)</script><script nonce="">alert(3)</script>
            <script nonce="n0nce-longer">alert(4)</script><script nonce="n0nce">ok()</script>"#;
        assert_eq!(
            inline_script_hashes(html.as_bytes(), "n0nce"),
            vec![hash("ok()")]
        );
    }

    #[test]
    fn script_tags_inside_attributes_text_comments_and_raw_text_are_not_scripts() {
        let html = r#"<html><body>
            <img alt="<script nonce=n>alert(1)</script>" title='<script nonce="n">alert(2)</script>'>
            <!-- <script nonce="n">alert(3)</script> -->
            <textarea><script nonce="n">alert(4)</script></textarea>
            <title>a <script nonce="n">alert(5)</script></title>
            <style>p::after { content: "<script nonce='n'>alert(6)</script>" }</style>
            <noscript><script nonce="n">alert(7)</script></noscript>
            <p>1 < 2 and <b>bold</b></p>
            <script nonce="n">ok()</script>
        </body></html>"#;
        assert_eq!(
            inline_script_hashes(html.as_bytes(), "n"),
            vec![hash("ok()")]
        );
    }

    #[test]
    fn a_script_runs_to_its_own_end_tag_only() {
        let html = r#"<script nonce="n">if (a </scripts && b) {}</script><p>x</p>"#;
        assert_eq!(
            inline_script_hashes(html.as_bytes(), "n"),
            vec![hash("if (a </scripts && b) {}")]
        );
        // Unterminated: the rest of the document is the script's text, as a browser reads it.
        assert_eq!(
            inline_script_hashes(br#"<script nonce="n">tail"#, "n"),
            vec![hash("tail")]
        );
    }

    const BOOTSTRAP: &str = r#"<link rel="modulepreload" href="/pkg/shop.js" crossorigin="n"><link rel="preload" href="/pkg/shop.wasm" as="fetch" type="application/wasm" crossorigin="n"><script type="module" nonce="n">idle(import('/pkg/shop.js'))</script>"#;
    const RESOURCES: &str = r#"<script nonce="n">__RESOLVED_RESOURCES=[];</script>"#;

    fn page(body: &str) -> String {
        format!(
            r#"<html><head><link rel="stylesheet" href="/pkg/shop.css">{BOOTSTRAP}<script type="application/ld+json">{{}}</script></head><body>{body}</body></html>{RESOURCES}"#
        )
    }

    #[test]
    fn a_page_without_islands_loses_exactly_the_renders_scripts_and_the_wasm() {
        let html = page(
            r#"<main><form action="/api/logout" method="post"><button>Sign out</button></form></main>"#,
        );
        let cut = idle_scripts(html.as_bytes(), "n");
        let parts: Vec<&str> = cut.iter().map(|r| &html[r.clone()]).collect();
        assert_eq!(parts, vec![BOOTSTRAP, RESOURCES]);
        let rest = String::from_utf8(without(html.as_bytes(), &cut)).unwrap();
        assert!(rest.contains(r#"<link rel="stylesheet" href="/pkg/shop.css">"#));
        assert!(rest.contains(r#"<script type="application/ld+json">{}</script>"#));
        assert!(!rest.contains("modulepreload") && !rest.contains(".wasm"));
        assert!(inline_script_hashes(rest.as_bytes(), "n").is_empty());
    }

    #[test]
    fn a_script_before_the_bootstrap_does_not_keep_the_preloads() {
        let reload = r#"<script nonce="n">live_reload()</script>"#;
        let html = format!("<html><head>{reload}{BOOTSTRAP}</head><body><p>x</p></body></html>");
        let cut = idle_scripts(html.as_bytes(), "n");
        let parts: Vec<&str> = cut.iter().map(|r| &html[r.clone()]).collect();
        assert_eq!(parts, vec![reload, BOOTSTRAP]);
    }

    #[test]
    fn a_page_with_an_island_keeps_its_scripts() {
        let html = page(
            r#"<main><leptos-island data-component="AddToCartIsland_1"><form></form></leptos-island></main>"#,
        );
        assert!(idle_scripts(html.as_bytes(), "n").is_empty());
    }

    #[test]
    fn island_tags_written_as_text_are_no_islands_and_foreign_scripts_are_kept() {
        // A product description quoting the tag, in an attribute, a comment or raw text.
        let html = page(
            r#"<p>&lt;leptos-island&gt;</p><img alt="<leptos-island>"><!-- <leptos-island> --><textarea><leptos-island></textarea>"#,
        );
        let cut = idle_scripts(html.as_bytes(), "n");
        assert_eq!(cut.len(), 2);
        assert_eq!(&html[cut[0].clone()], BOOTSTRAP);
        // A script without the render's nonce is not the render's: it is not cut (and, in a
        // page, gets no hash, so it does not run).
        let forged = r#"<link rel="modulepreload" href="/pkg/shop.js"><script type="module" nonce="x">1</script>"#;
        assert!(idle_scripts(forged.as_bytes(), "n").is_empty());
    }
}
