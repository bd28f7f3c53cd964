//! The server-rendered interface as pure functions: view models in, HTML and SVG out.
//!
//! Nothing here touches HTTP, the store or the clock. Handlers fill the view models of
//! [`pages`], pass a [`layout::PageCtx`] (catalogue, language, path, user) and send the
//! returned markup. Pages work without JavaScript, fetch nothing from outside the site and
//! link a single stylesheet, [`APP_CSS`], served at `/static/app.css`.

pub mod admin;
pub mod alerts;
pub mod dashboard;
pub mod i18n;
pub mod index;
pub mod layout;
pub mod pages;
pub mod report;
pub mod svg_map;
pub mod verify;

pub use i18n::{Catalog, Lang};
pub use layout::PageCtx;

/// The one stylesheet of the interface, to be served at `/static/app.css`.
pub const APP_CSS: &str = include_str!("../../static/app.css");

#[cfg(test)]
mod tests {
    use super::APP_CSS;

    #[test]
    fn stylesheet_is_small_and_self_contained() {
        assert!(
            APP_CSS.len() < 6 * 1024,
            "app.css is {} bytes",
            APP_CSS.len()
        );
        assert!(!APP_CSS.contains("http"), "app.css must fetch nothing");
        assert!(!APP_CSS.contains("@import"));
        assert!(!APP_CSS.contains("url("));
    }
}
