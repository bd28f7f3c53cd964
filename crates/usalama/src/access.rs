//! The account, token and organisation commands: `usalama user add|passwd|disable|unlock|
//! totp`, `usalama token create|revoke`, `usalama org add|list|share`. The operator acts as
//! an administrator; secrets are printed once, on standard output.

use crate::cli::{open_app, OrgCommand, Settings, TokenCommand, UserCommand};
use usalama_app::{AppError, Principal};
use usalama_domain::{ShareScope, DEFAULT_ORG};

/// `usalama token …`
pub fn token(s: &Settings, action: TokenCommand) -> anyhow::Result<()> {
    match action {
        TokenCommand::Create {
            role,
            label,
            org,
            expires_days,
            store,
        } => {
            let app = open_app(s, &store, None)?;
            let org = match org {
                Some(name) => app.org_by_name(&name)?.id,
                None => DEFAULT_ORG,
            };
            let expires = expires_days.map(|d| app.now() + chrono::Duration::days(i64::from(d)));
            let t = app.create_token_for(&Principal::Operator, role, &label, Some(org), expires)?;
            println!("{}", t.expose());
            let until = expires.map_or("never expires".to_string(), |e| format!("expires {e}"));
            eprintln!(
                "Token for role {role} (label '{label}') created; it {until}. It is shown once: store it safely."
            );
            Ok(())
        }
        TokenCommand::Revoke { label, store } => {
            let app = open_app(s, &store, None)?;
            let n = app.revoke_tokens(&label)?;
            println!("revoked {n} token(s) labelled '{label}'");
            Ok(())
        }
    }
}

/// `usalama user …`
pub fn user(s: &Settings, action: UserCommand) -> anyhow::Result<()> {
    let op = Principal::Operator;
    match action {
        UserCommand::Add {
            username,
            role,
            org,
            store,
        } => {
            let app = open_app(s, &store, None)?;
            let password = usalama_app::generate_password();
            match org {
                Some(name) => {
                    let org = app.org_by_name(&name)?;
                    app.set_account(&op, &username, &password, role, org.id)?;
                }
                None => app.set_password(&username, &password, role)?,
            }
            println!("user '{username}' ({role}) password: {password}");
            Ok(())
        }
        UserCommand::Passwd { username, store } => {
            let app = open_app(s, &store, None)?;
            let password = usalama_app::generate_password();
            app.change_password(&op, &username, &password)?;
            println!("user '{username}' password: {password}");
            Ok(())
        }
        UserCommand::Disable {
            username,
            enable,
            store,
        } => {
            let app = open_app(s, &store, None)?;
            app.set_disabled(&op, &username, !enable)?;
            let what = if enable { "enabled" } else { "disabled" };
            println!("user '{username}' {what}");
            Ok(())
        }
        UserCommand::Unlock { username, store } => {
            let app = open_app(s, &store, None)?;
            app.unlock_account(&op, &username)?;
            println!("user '{username}' unlocked");
            Ok(())
        }
        UserCommand::Totp {
            username,
            remove,
            store,
        } => {
            let app = open_app(s, &store, None)?;
            if remove {
                app.remove_totp(&op, &username)?;
                println!("user '{username}': second factor removed");
            } else {
                let uri = app.enroll_totp(&op, &username)?;
                println!("{uri}");
                eprintln!(
                    "Enter this URI in an authenticator app (or as a QR code). It is shown once."
                );
            }
            Ok(())
        }
        UserCommand::DevicePassword { username, store } => {
            let app = open_app(s, &store, None)?;
            let password = app.set_device_password(&op, &username)?;
            println!("user '{username}' OpenRosa device password: {password}");
            eprintln!(
                "Enter it in ODK Collect or KoboCollect (server settings, password) with the account name. It is shown once."
            );
            Ok(())
        }
    }
}

/// `usalama org …`
pub fn org(s: &Settings, action: OrgCommand) -> anyhow::Result<()> {
    let op = Principal::Operator;
    match action {
        OrgCommand::Add { name, store } => {
            let app = open_app(s, &store, None)?;
            let org = app.create_org(&op, &name)?;
            println!("organisation '{}' created ({})", org.name, org.id);
            Ok(())
        }
        OrgCommand::List { store } => {
            let app = open_app(s, &store, None)?;
            for o in app.list_orgs(&op)? {
                println!("{}\t{}", o.name, o.id);
            }
            Ok(())
        }
        OrgCommand::Share {
            from,
            to,
            scope,
            store,
        } => {
            let app = open_app(s, &store, None)?;
            let scope = match scope.as_str() {
                "none" => None,
                other => Some(
                    other
                        .parse::<ShareScope>()
                        .map_err(|e| AppError::invalid("scope", e.to_string()))?,
                ),
            };
            let (f, t) = (app.org_by_name(&from)?, app.org_by_name(&to)?);
            app.set_share(&op, f.id, t.id, scope)?;
            match scope {
                Some(sc) => println!("'{to}' now sees {} records of '{from}'", sc.as_str()),
                None => println!("'{to}' no longer sees records of '{from}'"),
            }
            Ok(())
        }
    }
}
