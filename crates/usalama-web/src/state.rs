//! What every request handler shares: the application, the translation catalogue, the web
//! settings, and the rendered maps (drawing one costs more than serving it).

use crate::ui::i18n::Catalog;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use usalama_app::{App, EventView, PublicStats};
use usalama_store::Page;

/// Rendered map SVGs by (language, source), each with the aggregates it was drawn from: a
/// map is drawn again only when those aggregates were recomputed. The `Weak` keeps the old
/// aggregates' address from being reused, so comparing addresses is safe.
type MapCache = Mutex<HashMap<(&'static str, String), (Weak<PublicStats>, Arc<str>)>>;

/// Event lists as JSON, each with the shared page it was written from (see
/// `App::list_events_shared`): a page is written again only when the application computed
/// it again (after a write, or when its time ran out). The `Weak` keeps the page's address
/// from being reused while its entry lives; the newest entries are first.
type ListJsonCache = Mutex<Vec<(Weak<Page<EventView>>, axum::body::Bytes)>>;

/// Event lists kept as JSON at most (a few MiB).
const LIST_JSON_ENTRIES: usize = 16;

/// Bodies of the events page (the part below the frame), each with the shared page it was
/// written from and what else it was written for (the language and the query): a body is
/// written again only when the application computed its page again. Newest first.
type EventsBodyCache = Mutex<Vec<(Weak<Page<EventView>>, String, Arc<str>)>>;

/// Events page bodies kept at most (about 30 KiB each).
const EVENTS_BODY_ENTRIES: usize = 16;

/// Settings of the web layer.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set when served over HTTPS, directly or behind a proxy;
    /// they are also marked when a proxy says `X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
    /// Rate limits per client address.
    pub rate_limits: crate::ratelimit::RateLimits,
    /// Take the client's address from the first `X-Forwarded-For` hop (only behind a
    /// reverse proxy that sets it).
    pub trust_forwarded_for: bool,
    /// The header (lower case) a trusted reverse proxy puts the client's address in, for
    /// the client addresses channels keep (`[privacy.client_address]`); `None`: the
    /// socket's peer address.
    pub trusted_proxy: Option<String>,
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
    maps: Arc<MapCache>,
    lists: Arc<ListJsonCache>,
    events_bodies: Arc<EventsBodyCache>,
    /// Rate-limit buckets (in memory only).
    pub(crate) buckets: Arc<crate::ratelimit::Buckets>,
}

impl AppState {
    /// Builds the state.
    pub fn new(app: App, config: WebConfig) -> Self {
        Self {
            app,
            catalog: Arc::new(Catalog::new()),
            config: Arc::new(config),
            maps: Arc::default(),
            lists: Arc::default(),
            events_bodies: Arc::default(),
            buckets: Arc::default(),
        }
    }

    /// The map for `lang` and `source` drawn from `stats`, from the cache when it was drawn
    /// from these very aggregates, else drawn by `draw` and kept.
    pub fn map_svg(
        &self,
        lang: &'static str,
        source: &str,
        stats: &Arc<PublicStats>,
        draw: impl FnOnce() -> String,
    ) -> Arc<str> {
        let key = (lang, source.to_string());
        if let Ok(cache) = self.maps.lock() {
            if let Some((from, svg)) = cache.get(&key) {
                if std::ptr::eq(from.as_ptr(), Arc::as_ptr(stats)) {
                    return svg.clone();
                }
            }
        }
        let svg: Arc<str> = draw().into();
        if let Ok(mut cache) = self.maps.lock() {
            cache.insert(key, (Arc::downgrade(stats), svg.clone()));
        }
        svg
    }

    /// The events page body written from this very `page` for `key` (the language and the
    /// query), if one is kept.
    pub(crate) fn events_body(&self, page: &Arc<Page<EventView>>, key: &str) -> Option<Arc<str>> {
        let cache = self.events_bodies.lock().ok()?;
        cache
            .iter()
            .find(|(from, k, _)| std::ptr::eq(from.as_ptr(), Arc::as_ptr(page)) && k == key)
            .map(|(_, _, body)| body.clone())
    }

    /// Keeps the events page body written from `page` for `key`.
    pub(crate) fn keep_events_body(
        &self,
        page: &Arc<Page<EventView>>,
        key: String,
        body: Arc<str>,
    ) {
        if let Ok(mut cache) = self.events_bodies.lock() {
            cache.retain(|(from, _, _)| from.strong_count() > 0);
            cache.insert(0, (Arc::downgrade(page), key, body));
            cache.truncate(EVENTS_BODY_ENTRIES);
        }
    }

    /// The JSON of `page`, from the cache when it was written from this very page, else
    /// written by `write` and kept.
    pub(crate) fn list_json(
        &self,
        page: &Arc<Page<EventView>>,
        write: impl FnOnce() -> Vec<u8>,
    ) -> axum::body::Bytes {
        if let Ok(cache) = self.lists.lock() {
            let kept = cache
                .iter()
                .find(|(from, _)| std::ptr::eq(from.as_ptr(), Arc::as_ptr(page)));
            if let Some((_, json)) = kept {
                return json.clone();
            }
        }
        let json = axum::body::Bytes::from(write());
        if let Ok(mut cache) = self.lists.lock() {
            cache.retain(|(from, _)| from.strong_count() > 0);
            cache.insert(0, (Arc::downgrade(page), json.clone()));
            cache.truncate(LIST_JSON_ENTRIES);
        }
        json
    }
}
