//! Counting what shoppers do: the event a page or server function noted on its response
//! (`app::ssr::EVENT_HEADER`, kept with a page by the page cache, so a page served again
//! from it counts again) is recorded for the visit that asked, unless the visit is not
//! counted (a bot, `Sec-GPC`/`DNT`, the shop's staff, a `HEAD`, an error). The header never
//! leaves the server. Recording only puts the event in memory; it is written in batches.

use app::ssr::{ClientIp, EVENT_HEADER, ServerContext, Staff};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, Method, header};

/// Middleware outside the page cache: records each response's noted event.
pub async fn record(State(ctx): State<ServerContext>, req: Request, next: Next) -> Response {
    let counted = req.method() != Method::HEAD;
    let asked = Asked::of(&req);
    let mut response = next.run(req).await;
    let Some(noted) = response.headers_mut().remove(EVENT_HEADER) else {
        return response;
    };
    let status = response.status();
    let served = status.is_success() || status.is_redirection();
    if counted
        && served
        && response.extensions().get::<Staff>().is_none()
        && let Some(noted) = noted.to_str().ok().and_then(analytics::Noted::from_header)
    {
        ctx.analytics.record(noted, asked.visit());
    }
    response
}

/// What a request says of who asked (the headers are gone once the request is handled).
struct Asked {
    ip: Option<String>,
    headers: [Option<http::HeaderValue>; 3],
}

impl Asked {
    fn of(req: &Request) -> Asked {
        let h: &HeaderMap = req.headers();
        Asked {
            ip: req.extensions().get::<ClientIp>().map(|ip| ip.0.clone()),
            headers: [
                h.get(header::USER_AGENT).cloned(),
                h.get("sec-gpc").cloned(),
                h.get(header::DNT).cloned(),
            ],
        }
    }

    fn visit(&self) -> Option<analytics::Visit> {
        let [ua, gpc, dnt] = self
            .headers
            .each_ref()
            .map(|v| v.as_ref().and_then(|v| v.to_str().ok()));
        analytics::visitor::countable(self.ip.as_deref(), ua, gpc, dnt)
    }
}
