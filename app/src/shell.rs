//! The HTML document around the application, rendered on the server only.

#[cfg(feature = "ssr")]
use leptos::prelude::*;

/// The document shell: `<head>` with styles, hydration scripts and meta tags, then the app.
/// The page's Content-Security-Policy is written by the server's middleware from the finished
/// page (see [`content_security_policy`]).
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use leptos_meta::{HashedStylesheet, MetaTags};

    view! {
        <!DOCTYPE html>
        <html lang="en" class="h-full">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HashedStylesheet options=options.clone() id="leptos" />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body class="flex min-h-full flex-col bg-stone-50 text-stone-900 antialiased">
                <crate::App />
            </body>
        </html>
    }
}

/// The page's CSP: scripts from this origin and the inline scripts the render wrote (marked
/// with its nonce), named by their `'sha256-…'` hashes (`inline_scripts`), and wasm; everything else from this origin, forms
/// may also go to Stripe Checkout, no framing. Nothing inline runs that the server did not
/// render, and the policy needs nothing per request, so a cached page keeps its own.
#[cfg(feature = "ssr")]
pub fn content_security_policy(
    inline_scripts: &[String],
    settings: &crate::ssr::ShopSettings,
) -> String {
    let mut connect = String::from("'self'");
    if let Some(port) = settings.live_reload_port {
        connect.push_str(&format!(" ws://127.0.0.1:{port} ws://localhost:{port}"));
    }
    let hashes: String = inline_scripts.iter().map(|h| format!(" {h}")).collect();
    let mut csp = format!(
        "default-src 'self'; \
         script-src 'self'{hashes} 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src {connect}; \
         object-src 'none'; base-uri 'none'; \
         form-action 'self' https://checkout.stripe.com; \
         frame-ancestors 'none'"
    );
    if settings.behind_tls {
        csp.push_str("; upgrade-insecure-requests");
    }
    csp
}
