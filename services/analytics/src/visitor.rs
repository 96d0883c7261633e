//! Who is counted, and how a visitor is told apart without keeping who they are.
//!
//! A visitor is a hash of their address and browser with the day's salt: the same person on
//! the same day counts once, no cookie is set, the address is never stored, and once the
//! day's salt is deleted (the day after) nobody can tell whose hash it was. Requests from
//! well-known bots, from browsers that ask not to be tracked (`Sec-GPC: 1`, `DNT: 1`) and
//! without a browser at all are not counted; nor are the shop's staff (the caller knows).

use sha2::{Digest, Sha256};

/// The request facts a visit is counted from (kept in memory only until the next flush).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Visit {
    pub ip: String,
    pub user_agent: String,
}

/// Parts of a user agent that only bots, crawlers, link previews and monitors send.
const BOT_MARKERS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slurp",
    "mediapartners",
    "facebookexternalhit",
    "facebookcatalog",
    "embedly",
    "preview",
    "pinterest",
    "whatsapp",
    "bingpreview",
    "lighthouse",
    "pingdom",
    "uptime",
    "monitor",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "go-http-client",
    "curl/",
    "wget/",
    "httpie",
    "okhttp",
    "java/",
    "libwww",
    "scrapy",
    "feedfetcher",
    "validator",
    "ahrefs",
    "semrush",
    "petalsearch",
];

/// The user agent is a well-known bot, crawler or script, or there is none.
pub fn is_bot(user_agent: &str) -> bool {
    let ua = user_agent.trim();
    if ua.len() < 8 {
        return true;
    }
    let lower = ua.to_ascii_lowercase();
    BOT_MARKERS.iter().any(|m| lower.contains(m))
}

/// The browser asks not to be tracked: Global Privacy Control (`Sec-GPC: 1`) or Do Not Track
/// (`DNT: 1`).
pub fn opted_out(gpc: Option<&str>, dnt: Option<&str>) -> bool {
    gpc.is_some_and(|v| v.trim() == "1") || dnt.is_some_and(|v| v.trim() == "1")
}

/// The visit to count for a request with these headers, if it is counted at all.
pub fn countable(
    ip: Option<&str>,
    user_agent: Option<&str>,
    gpc: Option<&str>,
    dnt: Option<&str>,
) -> Option<Visit> {
    let user_agent = user_agent?;
    if opted_out(gpc, dnt) || is_bot(user_agent) {
        return None;
    }
    Some(Visit {
        ip: ip.unwrap_or_default().to_owned(),
        user_agent: user_agent.chars().take(512).collect(),
    })
}

/// The visitor's hash for the day whose salt is `salt`: 32 hex digits.
pub fn hash(salt: &str, visit: &Visit) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0]);
    h.update(visit.ip.as_bytes());
    h.update([0]);
    h.update(visit.user_agent.as_bytes());
    let digest = h.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

    #[test]
    fn bots_scripts_and_missing_browsers_are_not_counted() {
        for ua in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0)",
            "facebookexternalhit/1.1",
            "curl/8.5.0",
            "python-requests/2.32",
            "",
            "x",
        ] {
            assert!(is_bot(ua), "{ua}");
        }
        assert!(!is_bot(FIREFOX));
        assert_eq!(countable(Some("1.2.3.4"), None, None, None), None);
    }

    #[test]
    fn gpc_and_dnt_are_honoured() {
        assert_eq!(
            countable(Some("1.2.3.4"), Some(FIREFOX), Some("1"), None),
            None
        );
        assert_eq!(
            countable(Some("1.2.3.4"), Some(FIREFOX), None, Some("1")),
            None
        );
        assert!(countable(Some("1.2.3.4"), Some(FIREFOX), Some("0"), Some("0")).is_some());
    }

    #[test]
    fn a_visitor_hash_depends_on_the_salt_address_and_browser() {
        let v = countable(Some("1.2.3.4"), Some(FIREFOX), None, None).unwrap();
        let h = hash("salt", &v);
        assert_eq!(h.len(), 32);
        assert_eq!(h, hash("salt", &v.clone()));
        assert_ne!(h, hash("other", &v));
        let elsewhere = Visit {
            ip: "1.2.3.5".to_owned(),
            ..v.clone()
        };
        assert_ne!(h, hash("salt", &elsewhere));
        assert!(!h.contains("1.2.3.4"));
    }
}
