//! The wasm entry point. Pages are rendered on the server; only their islands (add to cart,
//! the cart, the variant picker, the filters) hydrate, each on its own, after this has run.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    app::client::start();
}
