//! The administration pages: `/admin/users` (the accounts an administrator manages, and
//! forms to add, disable or enable, unlock and reset the second factor) and `/admin/orgs`
//! (system administrators: organisations and sharing). Plain forms with the CSRF token.

use super::layout::{render, PageCtx};
use maud::{html, Markup};

/// One account row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountRow {
    /// Login name.
    pub username: String,
    /// Role code.
    pub role: String,
    /// Organisation name.
    pub org: String,
    /// Disabled.
    pub disabled: bool,
    /// Locked.
    pub locked: bool,
    /// Second factor enrolled.
    pub totp: bool,
}

/// The accounts page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsersView {
    /// The CSRF token.
    pub csrf_token: String,
    /// The accounts.
    pub accounts: Vec<AccountRow>,
    /// Role codes the viewer may give.
    pub roles: Vec<String>,
    /// Organisation names the viewer may choose from (empty: the viewer's own).
    pub orgs: Vec<String>,
    /// A message after an action (already translated).
    pub notice: Option<String>,
    /// An error after an action (already translated).
    pub error: Option<String>,
    /// A generated password to show once.
    pub password: Option<(String, String)>,
}

/// The organisations page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgsView {
    /// The CSRF token.
    pub csrf_token: String,
    /// Organisation names.
    pub orgs: Vec<String>,
    /// A message after an action (already translated).
    pub notice: Option<String>,
    /// An error after an action (already translated).
    pub error: Option<String>,
}

fn messages(notice: &Option<String>, error: &Option<String>) -> Markup {
    html! {
        @if let Some(n) = notice { p.msg role="status" { (n) } }
        @if let Some(e) = error { p.msg.error role="alert" { (e) } }
    }
}

fn action(ctx: &PageCtx<'_>, csrf: &str, username: &str, act: &str, key: &str) -> Markup {
    html! {
        form.inline method="post" action="/admin/users" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="username" value=(username);
            input type="hidden" name="action" value=(act);
            button.btn.secondary type="submit" { (ctx.t(key)) }
        }
    }
}

/// Renders the accounts page.
pub fn users_page(ctx: &PageCtx<'_>, view: &UsersView) -> Markup {
    let title = ctx.t("admin-users-title");
    let body = html! {
        h1 { (title) }
        (messages(&view.notice, &view.error))
        @if let Some((user, pw)) = &view.password {
            div.msg role="status" {
                p { (ctx.t_args("admin-password-once", &[("user", user.as_str().into())])) }
                p.reference { strong { (pw) } }
            }
        }
        table.data {
            thead { tr {
                th scope="col" { (ctx.t("admin-col-user")) }
                th scope="col" { (ctx.t("admin-col-role")) }
                th scope="col" { (ctx.t("admin-col-org")) }
                th scope="col" { (ctx.t("admin-col-state")) }
                th scope="col" { (ctx.t("admin-col-actions")) }
            } }
            tbody {
                @for a in &view.accounts {
                    tr {
                        td { (a.username) }
                        td { (a.role) }
                        td { (a.org) }
                        td {
                            @if a.disabled { (ctx.t("admin-state-disabled")) " " }
                            @if a.locked { (ctx.t("admin-state-locked")) " " }
                            @if a.totp { (ctx.t("admin-state-totp")) }
                        }
                        td {
                            @if a.disabled {
                                (action(ctx, &view.csrf_token, &a.username, "enable", "admin-enable"))
                            } @else {
                                (action(ctx, &view.csrf_token, &a.username, "disable", "admin-disable"))
                            }
                            @if a.locked { (action(ctx, &view.csrf_token, &a.username, "unlock", "admin-unlock")) }
                            @if a.totp { (action(ctx, &view.csrf_token, &a.username, "totp_reset", "admin-totp-reset")) }
                        }
                    }
                }
            }
        }
        h2 { (ctx.t("admin-add-user")) }
        form.report method="post" action="/admin/users" {
            input type="hidden" name="csrf" value=(view.csrf_token);
            input type="hidden" name="action" value="add";
            div.field {
                label for="f-username" { (ctx.t("admin-col-user")) }
                input id="f-username" name="username" type="text" required maxlength="64" autocomplete="off";
            }
            div.field {
                label for="f-role" { (ctx.t("admin-col-role")) }
                select id="f-role" name="role" required {
                    @for r in &view.roles { option value=(r) { (r) } }
                }
            }
            @if !view.orgs.is_empty() {
                div.field {
                    label for="f-org" { (ctx.t("admin-col-org")) }
                    select id="f-org" name="org" {
                        @for o in &view.orgs { option value=(o) { (o) } }
                    }
                }
            }
            p.actions { button.btn type="submit" { (ctx.t("admin-add-user")) } }
        }
    };
    render(ctx, &title, body)
}

/// Renders the organisations page.
pub fn orgs_page(ctx: &PageCtx<'_>, view: &OrgsView) -> Markup {
    let title = ctx.t("admin-orgs-title");
    let body = html! {
        h1 { (title) }
        (messages(&view.notice, &view.error))
        ul { @for o in &view.orgs { li { (o) } } }
        h2 { (ctx.t("admin-add-org")) }
        form.report method="post" action="/admin/orgs" {
            input type="hidden" name="csrf" value=(view.csrf_token);
            input type="hidden" name="action" value="add";
            div.field {
                label for="f-name" { (ctx.t("admin-org-name")) }
                input id="f-name" name="name" type="text" required maxlength="64" autocomplete="off";
            }
            p.actions { button.btn type="submit" { (ctx.t("admin-add-org")) } }
        }
        h2 { (ctx.t("admin-share")) }
        form.report method="post" action="/admin/orgs" {
            input type="hidden" name="csrf" value=(view.csrf_token);
            input type="hidden" name="action" value="share";
            div.field {
                label for="f-from" { (ctx.t("admin-share-from")) }
                select id="f-from" name="from" { @for o in &view.orgs { option value=(o) { (o) } } }
            }
            div.field {
                label for="f-to" { (ctx.t("admin-share-to")) }
                select id="f-to" name="to" { @for o in &view.orgs { option value=(o) { (o) } } }
            }
            div.field {
                label for="f-scope" { (ctx.t("admin-share-scope")) }
                select id="f-scope" name="scope" {
                    option value="all" { (ctx.t("admin-scope-all")) }
                    option value="verified" { (ctx.t("admin-scope-verified")) }
                    option value="none" { (ctx.t("admin-scope-none")) }
                }
            }
            p.actions { button.btn type="submit" { (ctx.t("admin-share")) } }
        }
    };
    render(ctx, &title, body)
}
