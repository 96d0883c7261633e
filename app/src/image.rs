//! Product images as pages show them: responsive sources, the square image, and the
//! placeholder for a product without one.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// An image with its responsive sources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageView {
    pub src: String,
    pub srcset: String,
    pub alt: String,
}

/// The view of a catalog image: every stored width as `srcset`, 640 px as the fallback.
#[cfg(feature = "ssr")]
pub fn from_catalog(img: &catalog::ImageRef) -> ImageView {
    ImageView {
        src: img.url(640),
        srcset: img.srcset(),
        alt: img.alt.clone(),
    }
}

/// The placeholder shown where a product has no image yet: its initials on a tinted tile.
#[component]
pub fn NoImage(name: String) -> impl IntoView {
    let initials: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .filter(|c| c.is_alphanumeric())
        .take(2)
        .collect();
    view! {
        <div class="flex aspect-square w-full items-center justify-center rounded-lg bg-stone-100 text-2xl font-semibold text-stone-400" aria-hidden="true">
            {initials}
        </div>
    }
}

/// A square product image with its responsive sources.
#[component]
pub fn ProductImage(
    img: ImageView,
    /// The `sizes` attribute: how wide the image is shown at each viewport width.
    sizes: &'static str,
    /// Intrinsic width (and height) hint, to reserve space before it loads.
    width: u32,
    /// Load only when near the viewport; the first screen's images should not be lazy.
    #[prop(optional)]
    lazy: bool,
    #[prop(optional)] high_priority: bool,
    #[prop(default = "rounded-lg")] rounded: &'static str,
) -> impl IntoView {
    view! {
        <img
            src=img.src
            srcset=img.srcset
            sizes=sizes
            alt=img.alt
            width=width
            height=width
            loading=if lazy { "lazy" } else { "eager" }
            decoding="async"
            fetchpriority=high_priority.then_some("high")
            class=format!("aspect-square w-full {rounded} bg-stone-100 object-cover")
        />
    }
}
