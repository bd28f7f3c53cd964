//! The frame every page shares: the HTML5 document, the header with the product name, the
//! main menu, the language switch and the log-in or log-out control, and the footer.
//!
//! The document links one stylesheet and carries no `<script>`, no `<style>` and no
//! `style=` attribute, so it runs under `Content-Security-Policy: default-src 'self'`.

use super::i18n::{format_count, Arg, Catalog, Lang};
use maud::{html, Markup, DOCTYPE};
use usalama_domain::Role;

/// What every page needs besides its own view model.
#[derive(Debug, Clone, Copy)]
pub struct PageCtx<'a> {
    /// The translation catalogue.
    pub cat: &'a Catalog,
    /// The language of the response.
    pub lang: Lang,
    /// The path (and query, if any) of the request, e.g. `/events?from=2020-01-01`: the
    /// menu marks the current section and the language switch links back to it.
    pub current_path: &'a str,
    /// The signed-in user's name, if any.
    pub user: Option<&'a str>,
    /// The CSRF token to put in the log-out form, when the session has one.
    pub csrf_token: Option<&'a str>,
    /// The viewer's role (`None` for anonymous visitors): the menu links only the pages
    /// the role may open (`authz::may_open`).
    pub role: Option<Role>,
}

impl<'a> PageCtx<'a> {
    /// A context for an anonymous visitor.
    pub fn new(cat: &'a Catalog, lang: Lang, current_path: &'a str) -> Self {
        PageCtx {
            cat,
            lang,
            current_path,
            user: None,
            csrf_token: None,
            role: None,
        }
    }

    /// The message `key` in this page's language.
    pub fn t(&self, key: &str) -> String {
        self.cat.t(self.lang, key)
    }

    /// The message `key` with arguments, in this page's language.
    pub fn t_args(&self, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        self.cat.t_args(self.lang, key, args)
    }

    /// The message `prefix-code`, or `code` when there is none.
    pub fn label(&self, prefix: &str, code: &str) -> String {
        self.cat.label(self.lang, prefix, code)
    }

    /// A count with this language's thousands separator.
    pub fn num(&self, n: u64) -> String {
        format_count(self.lang, n)
    }
}

/// Renders a whole page for the given language and request path. `user` is the signed-in
/// user's name; the log-out form then carries no CSRF field (use [`render`] with
/// [`PageCtx::csrf_token`] set to add one).
pub fn page(
    cat: &Catalog,
    lang: Lang,
    title: &str,
    current_path: &str,
    body: Markup,
    user: Option<&str>,
) -> Markup {
    let ctx = PageCtx {
        user,
        ..PageCtx::new(cat, lang, current_path)
    };
    render(&ctx, title, body)
}

/// The path part of `current_path` if it is a safe local path, `/` otherwise (so a
/// crafted path such as `//example.org` cannot turn the language switch into an outside
/// link).
fn local_path(current_path: &str) -> &str {
    let path = current_path.split(['?', '#']).next().unwrap_or("/");
    let safe = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control);
    if safe {
        path
    } else {
        "/"
    }
}

/// The link that shows the current page in `lang`: the same path and query with
/// `lang=` replaced, e.g. `/events?from=2020-01-01&lang=fr`.
pub fn lang_href(current_path: &str, lang: Lang) -> String {
    let path = local_path(current_path);
    let query = current_path
        .split('#')
        .next()
        .and_then(|s| s.split_once('?'))
        .map(|(_, q)| q)
        .unwrap_or("");
    let mut href = String::from(path);
    href.push('?');
    for pair in query.split('&') {
        let name = pair.split('=').next().unwrap_or("");
        if pair.is_empty() || name == "lang" || pair.chars().any(char::is_control) {
            continue;
        }
        href.push_str(pair);
        href.push('&');
    }
    href.push_str("lang=");
    href.push_str(lang.code());
    href
}

/// Whether the menu item for `href` is the section of `path`.
fn is_current(path: &str, href: &str) -> bool {
    if href == "/" {
        path == "/"
    } else {
        path == href || path.starts_with(&format!("{href}/"))
    }
}

/// Renders a whole page: `title` goes into `<title>` (followed by the product name) and
/// `body` into `<main>`, which should start with its own `<h1>`.
pub fn render(ctx: &PageCtx<'_>, title: &str, body: Markup) -> Markup {
    let path = local_path(ctx.current_path);
    let app = ctx.t("app-name");
    // The menu's pages in order; each shown only if the route table lets the viewer in.
    let nav: Vec<(&str, &str)> = [
        ("/", "nav-home"),
        ("/events", "nav-events"),
        ("/dashboard", "nav-dashboard"),
        ("/map", "nav-map"),
        ("/index", "nav-index"),
        ("/alerts", "nav-alerts"),
        ("/report", "nav-report"),
        ("/verify", "nav-verify"),
        ("/admin/users", "nav-admin-users"),
        ("/admin/orgs", "nav-admin-orgs"),
    ]
    .into_iter()
    .filter(|(href, _)| crate::authz::may_open(ctx.role, href))
    .collect();
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (app) }
                link rel="stylesheet" href="/static/app.css";
            }
            body {
                a.skip href="#main" { (ctx.t("skip-to-content")) }
                header.top {
                    a.brand href="/" { (app) }
                    span.tagline { (ctx.t("app-tagline")) }
                    nav aria-label=(ctx.t("nav-label")) {
                        ul {
                            @for (href, key) in nav {
                                li {
                                    @if is_current(path, href) {
                                        a href=(href) aria-current="page" { (ctx.t(key)) }
                                    } @else {
                                        a href=(href) { (ctx.t(key)) }
                                    }
                                }
                            }
                            @if ctx.user.is_some() {
                                li {
                                    form.inline method="post" action="/logout" {
                                        @if let Some(token) = ctx.csrf_token {
                                            input type="hidden" name="csrf" value=(token);
                                        }
                                        button type="submit" { (ctx.t("nav-logout")) }
                                    }
                                }
                            } @else {
                                li {
                                    @if is_current(path, "/login") {
                                        a href="/login" aria-current="page" { (ctx.t("nav-login")) }
                                    } @else {
                                        a href="/login" { (ctx.t("nav-login")) }
                                    }
                                }
                            }
                        }
                    }
                    p.tools {
                        @if let Some(user) = ctx.user {
                            span.user { (ctx.t_args("nav-signed-in-as", &[("user", user.into())])) }
                            " "
                        }
                        span.lang {
                            span.sr { (ctx.t("lang-label")) (ctx.t("colon")) " " }
                            @for (i, l) in Lang::ALL.iter().enumerate() {
                                @if i > 0 { " | " }
                                @if *l == ctx.lang {
                                    strong lang=(l.code()) { (ctx.t(&format!("lang-{}", l.code()))) }
                                } @else {
                                    a href=(lang_href(ctx.current_path, *l)) lang=(l.code()) hreflang=(l.code()) {
                                        (ctx.t(&format!("lang-{}", l.code())))
                                    }
                                }
                            }
                        }
                    }
                }
                main #main {
                    (body)
                }
                footer.foot {
                    p { (ctx.t("footer-text")) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(lang: Lang, path: &str, user: Option<&str>) -> String {
        let cat = Catalog::new();
        page(&cat, lang, "T<i>", path, html! { h1 { "Body" } }, user).into_string()
    }

    #[test]
    fn frame_has_the_expected_parts() {
        let s = doc(Lang::En, "/map?from=2020-01-01", None);
        assert!(s.starts_with("<!DOCTYPE html><html lang=\"en\">"));
        assert!(s.contains("name=\"viewport\""));
        assert!(s.contains("<link rel=\"stylesheet\" href=\"/static/app.css\">"));
        assert!(s.contains("<title>T&lt;i&gt; · Usalama</title>"));
        assert!(s.contains("<a href=\"/map\" aria-current=\"page\">Map</a>"));
        assert!(s.contains("href=\"/report\""));
        assert!(s.contains("href=\"/login\""));
        assert!(!s.contains("/logout"));
        assert!(s.contains("href=\"/map?from=2020-01-01&amp;lang=fr\""));
        assert!(s.contains("<main id=\"main\"><h1>Body</h1></main>"));
        for bad in ["<script", "<style", "style=", "http:", "https:"] {
            assert!(!s.contains(bad), "{bad}");
        }
    }

    #[test]
    fn signed_in_shows_a_logout_form_and_escapes_the_name() {
        let cat = Catalog::new();
        let ctx = PageCtx {
            user: Some("a<b>&\"c"),
            csrf_token: Some("tok\"en"),
            ..PageCtx::new(&cat, Lang::Fr, "/")
        };
        let s = render(&ctx, "x", html! {}).into_string();
        assert!(s.contains("<form class=\"inline\" method=\"post\" action=\"/logout\">"));
        assert!(s.contains("value=\"tok&quot;en\""));
        assert!(s.contains("Connecté en tant que a&lt;b&gt;&amp;&quot;c"));
        assert!(s.contains("Se déconnecter"));
        assert!(s.contains("<html lang=\"fr\">"));
        assert!(s.contains("<a href=\"/\" aria-current=\"page\">Accueil</a>"));
        assert!(!s.contains("href=\"/login\""));
        assert!(!s.contains("href=\"/verify\""));
        assert!(!s.contains("href=\"/events\""));
        assert!(!s.contains("href=\"/alerts\""));
        let analyst = PageCtx {
            role: Some(Role::Analyst),
            ..ctx
        };
        let s = render(&analyst, "x", html! {}).into_string();
        assert!(s.contains("<a href=\"/verify\">Vérifier</a>"));
        assert!(s.contains("href=\"/events\""));
        assert!(!s.contains("href=\"/admin/users\""));
        let admin = PageCtx {
            role: Some(Role::Admin),
            ..ctx
        };
        let s = render(&admin, "x", html! {}).into_string();
        assert!(s.contains("href=\"/admin/users\"") && s.contains("href=\"/admin/orgs\""));
    }

    #[test]
    fn language_links_stay_local() {
        assert_eq!(lang_href("/map?lang=en&x=1", Lang::Fr), "/map?x=1&lang=fr");
        assert_eq!(lang_href("//evil.example/x", Lang::Fr), "/?lang=fr");
        assert_eq!(lang_href("https://evil.example/", Lang::En), "/?lang=en");
        assert_eq!(lang_href("/\\evil", Lang::En), "/?lang=en");
        assert_eq!(lang_href("/events#top", Lang::En), "/events?lang=en");
        assert_eq!(lang_href("", Lang::En), "/?lang=en");
    }
}
