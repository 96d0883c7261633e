//! URL helpers every part of the app uses: query strings, percent-encoding, and the
//! same-site paths that sign-in and form posts may return to.

/// Decodes `application/x-www-form-urlencoded` text into pairs.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// The first value of `key` in a query string.
pub fn query_value(query: &str, key: &str) -> Option<String> {
    parse_query(query)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// A path on this site to go back to (after signing in, after a form post): must start
/// with a single `/`, and hold only printable ASCII without backslashes (browsers
/// percent-encode the rest), so a crafted `next=` can never send anyone to another site or
/// break the `Location` header. The fragment is dropped.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let path = next?.split('#').next()?.trim();
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && path.chars().all(|c| c.is_ascii_graphic())
        && path.len() <= 2000;
    ok.then(|| path.to_owned())
}

/// The sign-in page, returning to `next` afterwards.
pub fn login_href(next: &str) -> String {
    match safe_next(Some(next)) {
        Some(n) if n != "/" && !n.starts_with("/login") => {
            format!("/login?next={}", urlencode(&n))
        }
        _ => "/login".to_owned(),
    }
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A page of a filtered list: `base?filter=…&page=N`, leaving out empty filters.
pub fn page_href(base: &str, params: &[(&str, Option<String>)], page: u32) -> String {
    let mut parts: Vec<String> = params
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", urlencode(v)))
        })
        .collect();
    parts.push(format!("page={page}"));
    format!("{base}?{}", parts.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_form_encoded_queries() {
        assert_eq!(
            parse_query("?q=cast+iron&brand=Edge+%26+Co.&attr=color%3ARed&bad=%zz"),
            vec![
                ("q".to_owned(), "cast iron".to_owned()),
                ("brand".to_owned(), "Edge & Co.".to_owned()),
                ("attr".to_owned(), "color:Red".to_owned()),
                ("bad".to_owned(), "%zz".to_owned()),
            ]
        );
        assert_eq!(
            parse_query("a=%C3%A9"),
            vec![("a".to_owned(), "é".to_owned())]
        );
        assert_eq!(parse_query("a=%4"), vec![("a".to_owned(), "%4".to_owned())]);
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/account")).as_deref(), Some("/account"));
        assert_eq!(
            safe_next(Some("/c/pans?page=2#top")).as_deref(),
            Some("/c/pans?page=2")
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/a\\b",
            "javascript:alert(1)",
            "",
            "account",
            "/x\r\nSet-Cookie: a=b",
            "/caf\u{e9}",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad:?}");
        }
        assert_eq!(safe_next(None), None);
    }

    #[test]
    fn the_login_link_carries_the_page_to_return_to() {
        assert_eq!(login_href("/account"), "/login?next=/account");
        assert_eq!(
            login_href("/c/x?a=1&b=2"),
            "/login?next=/c/x%3Fa%3D1%26b%3D2"
        );
        assert_eq!(login_href("/"), "/login");
        assert_eq!(login_href("//evil"), "/login");
    }
}
