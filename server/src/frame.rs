//! The page frame's per-shopper slots (see `app::layout::Shopper`), filled after the render.
//!
//! A page renders the header's account links, cart and email reminder as two empty slots;
//! [`fill`] puts the asker's part into them once the page is rendered. So a page's render is
//! the same for everyone who asks for it, and the page cache keeps one copy of a catalog page
//! (with a visitor's frame) and puts another shopper's frame into it with [`splice`].

use std::ops::Range;

use app::layout::Frame;
use app::ssr::ServerContext;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::{self, HeaderValue};

/// Where a page's frame is: the byte ranges its two slots' content takes in the body (empty
/// in a page just rendered).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slots {
    pub nav: Range<usize>,
    pub notice: Range<usize>,
}

/// Whether the page's own render changed the session (before the frame was worked out): a
/// page that did shows something of that session, and is never kept for others. Put in the
/// response's extensions by [`fill`], with the page's [`Slots`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderChangedSession(pub bool);

/// The slots of a rendered page: the first `data-frame="nav"` and `data-frame="notice"` start
/// tags (the header's, which come before any content), read as a browser's tokenizer would.
pub fn slots(html: &[u8]) -> Option<Slots> {
    let found = crate::csp::frame_slots(html);
    let first = |name: &str| {
        found
            .iter()
            .find(|(slot, _)| slot == name)
            .map(|(_, at)| *at..*at)
    };
    let (nav, notice) = (first("nav")?, first("notice")?);
    (nav.start < notice.start).then_some(Slots { nav, notice })
}

/// `html` with `frame` in place of what `slots` holds, and where the frame is in the result.
pub fn splice(html: &[u8], slots: &Slots, frame: &Frame) -> (Vec<u8>, Slots) {
    let mut out = Vec::with_capacity(html.len() + frame.nav.len() + frame.notice.len());
    out.extend_from_slice(&html[..slots.nav.start]);
    let nav = out.len()..out.len() + frame.nav.len();
    out.extend_from_slice(frame.nav.as_bytes());
    out.extend_from_slice(&html[slots.nav.end..slots.notice.start]);
    let notice = out.len()..out.len() + frame.notice.len();
    out.extend_from_slice(frame.notice.as_bytes());
    out.extend_from_slice(&html[slots.notice.end..]);
    (out, Slots { nav, notice })
}

/// The frame for the request whose head is `head`. If the shopper cannot be loaded (the
/// database is unavailable), the page still goes out, with a visitor's frame.
pub async fn for_request(ctx: &ServerContext, head: http::request::Parts) -> Frame {
    let on_cart_page = head.uri.path() == "/cart";
    match app::layout::frame(ctx.clone(), head).await {
        Ok(frame) => frame,
        Err(e) => {
            tracing::warn!(error = %e, "the shopper's frame could not be loaded; a visitor's is shown");
            app::layout::render_frame(app::layout::Shopper::default(), on_cart_page)
        }
    }
}

/// Middleware around the page renders: fills each rendered page's frame for the asker.
pub async fn fill(State(ctx): State<ServerContext>, req: Request, next: Next) -> Response {
    let (head, body) = req.into_parts();
    let session = head.extensions.get::<tower_sessions::Session>().cloned();
    let response = next.run(Request::from_parts(head.clone(), body)).await;
    if !crate::middleware::is_html(&response) {
        return response;
    }
    let changed = session.as_ref().is_some_and(|s| s.is_modified());
    let (mut parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, crate::middleware::MAX_PAGE_BYTES).await {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "a page could not be read to fill its frame");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let Some(empty) = slots(&body) else {
        return Response::from_parts(parts, Body::from(body));
    };
    let frame = for_request(&ctx, head).await;
    let (filled, at) = splice(&body, &empty, &frame);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(filled.len()));
    parts.extensions.insert(at);
    parts.extensions.insert(RenderChangedSession(changed));
    if frame.staff {
        parts.extensions.insert(app::ssr::Staff);
    }
    Response::from_parts(parts, Body::from(Bytes::from(filled)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(nav: &str, notice: &str) -> Frame {
        Frame {
            nav: nav.to_owned(),
            notice: notice.to_owned(),
            staff: false,
        }
    }

    #[test]
    fn a_frame_goes_into_the_slots_and_another_replaces_it() {
        let page = r#"<head><meta content='<nav data-frame="nav">'></head><body><header><nav class="x" data-frame="nav"></nav></header><div data-frame="notice"></div><main><nav data-frame="nav"></nav></main></body>"#;
        let empty = slots(page.as_bytes()).unwrap();
        let (visitor, at) = splice(page.as_bytes(), &empty, &frame("<a>Sign in</a>", ""));
        let visitor = String::from_utf8(visitor).unwrap();
        assert!(visitor.contains(r#"<nav class="x" data-frame="nav"><a>Sign in</a></nav></header><div data-frame="notice"></div><main><nav data-frame="nav"></nav>"#));
        let (shopper, again) = splice(
            visitor.as_bytes(),
            &at,
            &frame("<a>Ada</a><form></form>", "<p>Confirm</p>"),
        );
        let shopper = String::from_utf8(shopper).unwrap();
        assert!(shopper.contains(r#"<nav class="x" data-frame="nav"><a>Ada</a><form></form></nav></header><div data-frame="notice"><p>Confirm</p></div><main><nav data-frame="nav"></nav>"#));
        assert_eq!(&shopper[again.nav.clone()], "<a>Ada</a><form></form>");
        assert_eq!(&shopper[again.notice.clone()], "<p>Confirm</p>");
        // Back to the visitor's: exactly the first fill.
        let (back, _) = splice(shopper.as_bytes(), &again, &frame("<a>Sign in</a>", ""));
        assert_eq!(String::from_utf8(back).unwrap(), visitor);
    }

    #[test]
    fn a_page_without_both_slots_in_order_has_no_frame() {
        assert!(slots(br#"<div data-frame="notice"></div>"#).is_none());
        assert!(slots(br#"<div data-frame="notice"></div><nav data-frame="nav"></nav>"#).is_none());
        assert!(
            slots(
                br#"<script><nav data-frame="nav"></nav></script><div data-frame="notice"></div>"#
            )
            .is_none()
        );
    }
}
