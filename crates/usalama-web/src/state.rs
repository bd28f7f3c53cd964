//! What every request handler shares: the application, the translation catalogue and the
//! web settings.

use crate::ui::i18n::Catalog;
use std::sync::Arc;
use usalama_app::App;

/// Settings of the web layer.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set when served over HTTPS, directly or behind a proxy).
    pub secure_cookies: bool,
}

/// Shared state of the router.
#[derive(Clone)]
pub struct AppState {
    /// The application layer.
    pub app: App,
    /// Translations.
    pub catalog: Arc<Catalog>,
    /// Web settings.
    pub config: Arc<WebConfig>,
}

impl AppState {
    /// Builds the state.
    pub fn new(app: App, config: WebConfig) -> Self {
        Self {
            app,
            catalog: Arc::new(Catalog::new()),
            config: Arc::new(config),
        }
    }
}
