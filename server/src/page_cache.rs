//! Rendered pages for visitors without a session, kept in memory.
//!
//! Most traffic (first visits, crawlers) has no session cookie, and for them a catalog page is
//! the same for everyone: the home page, categories, product pages and searches are rendered
//! once and then served from here, already compressed (brotli and gzip, made once per body),
//! with their own Content-Security-Policy (which names the page's inline scripts by hash, so
//! the body needs nothing per request).
//!
//! Freshness: an entry lives for half of `CATALOG_CACHE_SECS`, and the catalog's own read cache
//! (which a render reads from) keeps its entries for the other half, so what a visitor sees is
//! never older than `CATALOG_CACHE_SECS` in all. A change made through this instance's catalog
//! empties both at once (the catalog's change counter is part of every key).
//!
//! Only `200` HTML answers without cookies are kept, and only pages whose render did not touch
//! the session. A page requested by many visitors at once while it is missing is rendered once;
//! the others wait for that render.
//!
//! Shoppers with a session (a cart, a signed-in account) get the same kept page with their own
//! part of the page frame (header links, cart, reminders: see `crate::frame`) put in its
//! place, compressed for them; a page rendered for a shopper is kept with a visitor's frame
//! in place of theirs. A request carrying a failed form's error is rendered for its asker.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use sha2::{Digest, Sha256};

use app::layout::Frame;

use crate::frame::{RenderChangedSession, Slots};

/// Bodies kept at most, in bytes (three encodings each).
const CAPACITY_BYTES: u64 = 64 * 1024 * 1024;
/// The largest page kept; anything bigger is served as rendered.
const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;
/// The longest URL (path and query) kept: real catalog URLs are far shorter, and a long one
/// made up to fill the cache is rendered for its asker alone.
const MAX_TARGET_BYTES: usize = 512;

/// Whether a page came from the cache (`hit`) or was rendered and kept (`miss`); absent on
/// pages the cache does not keep.
pub const X_CACHE: &str = "x-cache";

/// The page cache (cheap to clone).
#[derive(Clone)]
pub struct PageCache {
    entries: Option<moka::future::Cache<String, Arc<Page>>>,
    ctx: app::ssr::ServerContext,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCache")
            .field("entries", &self.entries.as_ref().map(|e| e.entry_count()))
            .finish_non_exhaustive()
    }
}

/// One rendered page.
struct Page {
    /// The headers the render set (type, policy, caching), with `ETag` and `Vary` added.
    headers: HeaderMap,
    etag: HeaderValue,
    /// The page with a visitor's frame.
    identity: Bytes,
    /// Where that frame is in `identity`.
    slots: Slots,
    gzip: Bytes,
    brotli: Bytes,
    /// The page around its frame, compressed once in pieces that a shopper's frame joins.
    around: Around,
}

impl Page {
    fn weight(&self) -> u32 {
        let bytes = self.identity.len()
            + self.gzip.len()
            + self.brotli.len()
            + self.around.compressed_len()
            + 1024;
        u32::try_from(bytes).unwrap_or(u32::MAX)
    }
}

impl PageCache {
    /// Pages kept for `ttl` (half of `CATALOG_CACHE_SECS`; zero keeps nothing), keyed by the
    /// catalog's change counter and the URL.
    pub fn new(ttl: Duration, ctx: app::ssr::ServerContext) -> Self {
        let entries = (!ttl.is_zero()).then(|| {
            moka::future::Cache::builder()
                .max_capacity(CAPACITY_BYTES)
                .weigher(|key: &String, page: &Arc<Page>| {
                    page.weight()
                        .saturating_add(u32::try_from(key.len()).unwrap_or(u32::MAX))
                })
                .time_to_live(ttl)
                .build()
        });
        Self { entries, ctx }
    }

    /// The cache key of a request that may be answered from the cache: a `GET` or `HEAD` of a
    /// catalog page (URL at most [`MAX_TARGET_BYTES`]).
    fn key(&self, req: &Request) -> Option<String> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return None;
        }
        let path = req.uri().path();
        let catalog_page = path == "/"
            || path == "/search"
            || path
                .strip_prefix("/p/")
                .is_some_and(|rest| !rest.is_empty())
            || path
                .strip_prefix("/c/")
                .is_some_and(|rest| !rest.is_empty());
        if !catalog_page {
            return None;
        }
        let target = req.uri().path_and_query().map_or(path, |p| p.as_str());
        if target.len() > MAX_TARGET_BYTES {
            return None;
        }
        Some(format!("{}|{target}", self.ctx.catalog.changes()))
    }
}

/// Middleware around the page router: answers from the cache when it can, renders (once for
/// all who ask at the same moment) and keeps the page when it may.
pub async fn serve(State(cache): State<PageCache>, req: Request, next: Next) -> Response {
    let (Some(entries), Some(key)) = (&cache.entries, cache.key(&req)) else {
        return next.run(req).await;
    };
    // Whether the asker has a session, as the session layer itself read the request's cookies
    // (a cookie this code would parse otherwise cannot smuggle a session past it).
    let session = req.extensions().get::<tower_sessions::Session>().cloned();
    if session.as_ref().is_none_or(|s| s.id().is_some()) {
        return for_shopper(&cache, entries, key, req, next).await;
    }
    let encoding = Encoding::accepted(req.headers());
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    if req.method() == Method::HEAD {
        // Answered from a kept page when there is one; a page rendered for `HEAD` is not
        // kept (what reaches a client of `HEAD` is no body at all).
        return match entries.get(&key).await {
            Some(page) => answer(&page, encoding, if_none_match.as_ref(), "hit"),
            None => next.run(req).await,
        };
    }
    let mut pending = Some((req, next));
    let mut uncached = None;
    let found = entries
        .optionally_get_with(key, async {
            let (req, next) = pending.take()?;
            let response = next.run(req).await;
            // A render that started a session (its cookie is set by the session layer, outside
            // this one) made a page for that session alone.
            if session.as_ref().is_none_or(|s| s.is_modified()) {
                uncached = Some(response);
                return None;
            }
            match keep(response, None).await {
                Ok((page, _, _)) => Some(Arc::new(page)),
                Err(response) => {
                    uncached = Some(response);
                    None
                }
            }
        })
        .await;
    match (found, uncached, pending) {
        // Kept by another request's render: this request is served without one (the page's
        // analytics event, kept in its headers, counts again).
        (Some(page), _, Some(_)) => answer(&page, encoding, if_none_match.as_ref(), "hit"),
        (Some(page), _, None) => answer(&page, encoding, if_none_match.as_ref(), "miss"),
        (None, Some(response), _) => response,
        // Not rendered here (another caller's render was not kept): render for this one.
        (None, None, Some((req, next))) => next.run(req).await,
        (None, None, None) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// A catalog page for a shopper with a session: the kept page with their frame, or rendered
/// for them (and kept with a visitor's frame when the render is everyone's).
async fn for_shopper(
    cache: &PageCache,
    entries: &moka::future::Cache<String, Arc<Page>>,
    key: String,
    req: Request,
    next: Next,
) -> Response {
    if req.method() == Method::HEAD
        || req
            .extensions()
            .get::<app::layout::FormErrorFlash>()
            .is_some()
    {
        return next.run(req).await;
    }
    let encoding = Encoding::accepted(req.headers());
    if let Some(page) = entries.get(&key).await {
        let (head, _) = req.into_parts();
        let frame = crate::frame::for_request(&cache.ctx, head).await;
        return personal(&page, &frame, encoding, "hit");
    }
    let visitor = app::layout::render_frame(app::layout::Shopper::default(), false);
    let response = next.run(req).await;
    let staff = response.extensions().get::<app::ssr::Staff>().is_some();
    match keep(response, Some(&visitor)).await {
        Ok((page, mine, at)) => {
            let page = Arc::new(page);
            entries.insert(key, page.clone()).await;
            // Their own frame, as the render put it in.
            let frame = Frame {
                nav: String::from_utf8_lossy(&mine[at.nav]).into_owned(),
                notice: String::from_utf8_lossy(&mine[at.notice]).into_owned(),
                staff,
            };
            personal(&page, &frame, encoding, "miss")
        }
        Err(response) => response,
    }
}

/// A kept page with one shopper's frame: gzipped from the pieces compressed once around the
/// frame, with only the frame compressed now (every browser takes gzip), for a client that
/// takes gzip, else as it is; no
/// `ETag` (the tag names the kept page, not this one).
fn personal(page: &Page, frame: &Frame, encoding: Encoding, cache: &'static str) -> Response {
    let mut headers = page.headers.clone();
    headers.remove(header::ETAG);
    headers.insert(X_CACHE, HeaderValue::from_static(cache));
    let gzip = match encoding {
        Encoding::Gzip | Encoding::Brotli { or_gzip: true } => page.around.gzip(frame),
        Encoding::Brotli { or_gzip: false } | Encoding::Identity => None,
    };
    let body = match gzip {
        Some(gzip) => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            gzip
        }
        None => crate::frame::splice(&page.identity, &page.slots, frame).0,
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    let mut response = Response::new(Body::from(body));
    *response.headers_mut() = headers;
    if frame.staff {
        response.extensions_mut().insert(app::ssr::Staff);
    }
    response
}

/// The page to keep from a rendered response, or the response itself (its body read into
/// memory) when it may not be kept: anything but a `200` HTML page with its frame, one that
/// sets a cookie, or one whose render changed the session. With `visitor`, the response was
/// rendered for a shopper: the page kept has the visitor's frame in place of theirs, and
/// their body comes back with it.
async fn keep(
    response: Response,
    visitor: Option<&Frame>,
) -> Result<(Page, Bytes, Slots), Response> {
    let (parts, body) = response.into_parts();
    let slots = parts.extensions.get::<Slots>().cloned();
    let everyones = parts
        .extensions
        .get::<RenderChangedSession>()
        .is_some_and(|c| !c.0);
    let keepable = parts.status == StatusCode::OK
        && everyones
        && parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"))
        && !parts.headers.contains_key(header::SET_COOKIE)
        && !parts.headers.contains_key(header::CONTENT_ENCODING);
    let too_big = axum::body::HttpBody::size_hint(&body)
        .exact()
        .is_none_or(|len| len > MAX_PAGE_BYTES as u64);
    let Some(slots) = slots.filter(|_| keepable && !too_big) else {
        return Err(Response::from_parts(parts, body));
    };
    let rendered = match axum::body::to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::warn!(error = %e, "a page could not be read for the page cache");
            return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        }
    };
    let rendered_slots = slots.clone();
    let (identity, slots) = match visitor {
        Some(frame) => {
            let (body, slots) = crate::frame::splice(&rendered, &slots, frame);
            (Bytes::from(body), slots)
        }
        None => (rendered.clone(), slots),
    };
    let digest = Sha256::digest(&identity);
    let etag = format!(
        "W/\"{}\"",
        digest[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let etag = HeaderValue::from_str(&etag)
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())?;
    let mut headers = parts.headers;
    headers.remove(header::CONTENT_LENGTH);
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(header::ETAG, etag.clone());
    let (gzip, brotli, around) = {
        let (identity, slots) = (identity.clone(), slots.clone());
        tokio::task::spawn_blocking(move || compress(&identity, &slots))
            .await
            .unwrap_or_else(|_| (Bytes::new(), Bytes::new(), Around::default()))
    };
    Ok((
        Page {
            headers,
            etag,
            identity,
            slots,
            gzip,
            brotli,
            around,
        },
        rendered,
        rendered_slots,
    ))
}

/// The body compressed once, for visitors in both ways (gzip level 6, brotli quality 6: a few
/// milliseconds for a large page, then served many times) and in the pieces around its frame
/// for shoppers; the visitors' gzip is those pieces with the visitor's frame.
fn compress(identity: &[u8], slots: &Slots) -> (Bytes, Bytes, Around) {
    let around = Around::new(identity, slots);
    let visitor = Frame {
        nav: String::from_utf8_lossy(&identity[slots.nav.clone()]).into_owned(),
        notice: String::from_utf8_lossy(&identity[slots.notice.clone()]).into_owned(),
        staff: false,
    };
    let gzip = around.gzip(&visitor).map(Bytes::from).unwrap_or_default();
    (gzip, Bytes::from(compress_brotli(identity, 6)), around)
}

/// `body` in brotli at `quality` (empty if that failed).
fn compress_brotli(body: &[u8], quality: i32) -> Vec<u8> {
    let mut brotli = Vec::with_capacity(body.len() / 5);
    let params = brotli::enc::BrotliEncoderParams {
        quality,
        lgwin: 22,
        ..Default::default()
    };
    if brotli::BrotliCompress(&mut &body[..], &mut brotli, &params).is_err() {
        brotli.clear();
    }
    brotli
}

/// A kept page's body around its frame, gzip-compressed once as three pieces of one deflate
/// stream (each ends on a byte boundary with a sync flush, and none refers back into another):
/// a shopper's page is those pieces with their frame compressed between them, then the gzip
/// trailer, whose CRC-32 is combined from the pieces' own.
#[derive(Default)]
struct Around {
    /// Before the nav slot's content, between the slots, and after the notice slot's
    /// content (the last one ends the stream).
    pieces: Option<[(Bytes, crc32fast::Hasher, u64); 3]>,
}

impl Around {
    fn new(identity: &[u8], slots: &Slots) -> Around {
        let parts = [
            &identity[..slots.nav.start],
            &identity[slots.nav.end..slots.notice.start],
            &identity[slots.notice.end..],
        ];
        let mut pieces = Vec::with_capacity(3);
        for (i, part) in parts.iter().enumerate() {
            let Some(deflated) = deflate_piece(part, 6, i == 2) else {
                return Around::default();
            };
            let mut crc = crc32fast::Hasher::new();
            crc.update(part);
            pieces.push((Bytes::from(deflated), crc, part.len() as u64));
        }
        Around {
            pieces: pieces.try_into().ok(),
        }
    }

    fn compressed_len(&self) -> usize {
        self.pieces
            .as_ref()
            .map_or(0, |p| p.iter().map(|(b, _, _)| b.len()).sum())
    }

    /// The gzip file of the page with `frame` in its slots.
    fn gzip(&self, frame: &Frame) -> Option<Vec<u8>> {
        /// A piece of the page: compressed once, or the shopper's, compressed now.
        enum Piece<'a> {
            Kept(&'a (Bytes, crc32fast::Hasher, u64)),
            Theirs(&'a str),
        }
        let [before, between, after] = self.pieces.as_ref()?;
        let order = [
            Piece::Kept(before),
            Piece::Theirs(&frame.nav),
            Piece::Kept(between),
            Piece::Theirs(&frame.notice),
            Piece::Kept(after),
        ];
        let mut out = Vec::with_capacity(self.compressed_len() + frame.nav.len() + 64);
        // Header: magic, deflate, no flags, no time, no extra flags, unknown OS.
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
        let mut crc = crc32fast::Hasher::new();
        let mut len = 0_u64;
        for piece in order {
            match piece {
                Piece::Kept((deflated, piece_crc, piece_len)) => {
                    out.extend_from_slice(deflated);
                    crc.combine(piece_crc);
                    len += piece_len;
                }
                // An empty slot adds nothing to the stream.
                Piece::Theirs("") => {}
                Piece::Theirs(text) => {
                    FRAME_DEFLATE.with_borrow_mut(|c| {
                        c.reset();
                        deflate_with(c, text.as_bytes(), false, &mut out)
                    })?;
                    crc.update(text.as_bytes());
                    len += text.len() as u64;
                }
            }
        }
        out.extend_from_slice(&crc.finalize().to_le_bytes());
        out.extend_from_slice(&((len & 0xffff_ffff) as u32).to_le_bytes());
        Some(out)
    }
}

thread_local! {
    /// The compressor of shoppers' frames, one per worker thread and reset for each frame: a
    /// new one costs more (its tables are allocated and zeroed) than a frame's compression.
    static FRAME_DEFLATE: std::cell::RefCell<flate2::Compress> =
        std::cell::RefCell::new(flate2::Compress::new(flate2::Compression::new(6), false));
}

/// `data` as raw deflate: ended with a sync flush (a byte boundary, the stream open), or, for
/// the `last` piece, ending the stream. No piece refers back into another.
fn deflate_piece(data: &[u8], level: u32, last: bool) -> Option<Vec<u8>> {
    let mut c = flate2::Compress::new(flate2::Compression::new(level), false);
    let mut out = Vec::with_capacity(data.len() / 3 + 128);
    deflate_with(&mut c, data, last, &mut out)?;
    Some(out)
}

/// Appends `data` compressed by `c` (fresh or reset) to `out`, as [`deflate_piece`] does.
fn deflate_with(
    c: &mut flate2::Compress,
    data: &[u8],
    last: bool,
    out: &mut Vec<u8>,
) -> Option<()> {
    use flate2::{FlushCompress, Status};
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    loop {
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(4096));
        }
        let consumed = usize::try_from(c.total_in()).ok()?;
        let status = c.compress_vec(&data[consumed..], out, flush).ok()?;
        let all_in = usize::try_from(c.total_in()).ok()? == data.len();
        match status {
            Status::StreamEnd => return Some(()),
            // A sync flush is complete when it returns with room left over.
            Status::Ok | Status::BufError if !last && all_in && out.len() < out.capacity() => {
                return Some(());
            }
            Status::Ok | Status::BufError => {}
        }
    }
}

/// The encodings a client takes, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    /// Brotli, and whether gzip would do too.
    Brotli {
        or_gzip: bool,
    },
    Gzip,
    Identity,
}

impl Encoding {
    fn accepted(headers: &HeaderMap) -> Encoding {
        let mut brotli = false;
        let mut gzip = false;
        for value in headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            for item in value.split(',') {
                let mut parts = item.split(';');
                let name = parts.next().unwrap_or("").trim();
                let refused = parts.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                if refused {
                    continue;
                }
                if name.eq_ignore_ascii_case("br") {
                    brotli = true;
                } else if name.eq_ignore_ascii_case("gzip") {
                    gzip = true;
                }
            }
        }
        if brotli {
            Encoding::Brotli { or_gzip: gzip }
        } else if gzip {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }
}

/// A kept page as the client takes it: `304` when its copy is current, else the body in the
/// best encoding it accepts; `X-Cache` says whether it was kept before (`hit`) or just now.
fn answer(
    page: &Page,
    encoding: Encoding,
    if_none_match: Option<&HeaderValue>,
    cache: &'static str,
) -> Response {
    // Weak comparison (RFC 9110, 13.1.2): the tag names the page, whatever its encoding.
    let ours = page.etag.to_str().unwrap_or("").trim_start_matches("W/");
    let current = if_none_match
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t.trim_start_matches("W/") == ours)
        });
    let mut headers = page.headers.clone();
    headers.insert(X_CACHE, HeaderValue::from_static(cache));
    if current {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        headers.remove(header::CONTENT_TYPE);
        *response.headers_mut() = headers;
        return response;
    }
    let (body, coding) = match encoding {
        Encoding::Brotli { .. } if !page.brotli.is_empty() => (page.brotli.clone(), Some("br")),
        Encoding::Gzip | Encoding::Brotli { or_gzip: true } if !page.gzip.is_empty() => {
            (page.gzip.clone(), Some("gzip"))
        }
        _ => (page.identity.clone(), None),
    };
    if let Some(coding) = coding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    let mut response = Response::new(Body::from(body));
    *response.headers_mut() = headers;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Encoding {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        Encoding::accepted(&headers)
    }

    #[test]
    fn the_best_accepted_encoding_is_chosen() {
        assert_eq!(
            accept("gzip, deflate, br, zstd"),
            Encoding::Brotli { or_gzip: true }
        );
        assert_eq!(accept("br, gzip;q=0"), Encoding::Brotli { or_gzip: false });
        assert_eq!(accept("gzip"), Encoding::Gzip);
        assert_eq!(accept("br;q=0, gzip;q=0.5"), Encoding::Gzip);
        assert_eq!(accept("identity"), Encoding::Identity);
        assert_eq!(accept("BR"), Encoding::Brotli { or_gzip: false });
        assert_eq!(Encoding::accepted(&HeaderMap::new()), Encoding::Identity);
    }

    #[test]
    fn a_shoppers_gzip_is_the_page_with_their_frame() {
        use std::io::Read;
        let page = format!(
            "<body><header><nav data-frame=\"nav\"></nav></header><div data-frame=\"notice\"></div><main>{}</main></body>",
            "<p>a long page of products</p>".repeat(3000)
        );
        let empty = crate::frame::slots(page.as_bytes()).unwrap();
        let visitor = Frame {
            nav: "<a>Sign in</a>".to_owned(),
            notice: String::new(),
            staff: false,
        };
        let (identity, slots) = crate::frame::splice(page.as_bytes(), &empty, &visitor);
        let around = Around::new(&identity, &slots);
        for frame in [
            visitor.clone(),
            Frame {
                nav: "<a>Ada</a><span>3</span>".repeat(50),
                notice: "<p>Please confirm your address.</p>".to_owned(),
                staff: false,
            },
            // Larger than the output's first allocation, with the reused compressor.
            Frame {
                nav: (0..3000).map(|i| format!("<li>{i}</li>")).collect(),
                notice: String::new(),
                staff: false,
            },
            visitor.clone(),
        ] {
            let gzip = around.gzip(&frame).unwrap();
            let mut unpacked = Vec::new();
            flate2::read::GzDecoder::new(&gzip[..])
                .read_to_end(&mut unpacked)
                .unwrap();
            assert_eq!(unpacked, crate::frame::splice(&identity, &slots, &frame).0);
            assert!(gzip.len() < identity.len() / 10, "{}", gzip.len());
        }
    }

    #[test]
    fn compressed_bodies_come_back_as_the_page() {
        use std::io::Read;
        let body = format!(
            "<header><nav data-frame=\"nav\"><a>Sign in</a></nav></header><div data-frame=\"notice\"></div>{}",
            "<p>a page</p>".repeat(500)
        );
        let at = "<header><nav data-frame=\"nav\">".len();
        let notice = body.find("data-frame=\"notice\">").unwrap() + "data-frame=\"notice\">".len();
        let slots = Slots {
            nav: at..at + "<a>Sign in</a>".len(),
            notice: notice..notice,
        };
        assert_eq!(
            crate::frame::slots(body.as_bytes()).unwrap().notice,
            slots.notice
        );
        let (gzip, brotli, _) = compress(body.as_bytes(), &slots);
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(&gzip[..])
            .read_to_string(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, body);
        let mut unbrotli = Vec::new();
        brotli::BrotliDecompress(&mut &brotli[..], &mut unbrotli).unwrap();
        assert_eq!(unbrotli, body.as_bytes());
        assert!(brotli.len() < body.len() / 10);
    }
}
