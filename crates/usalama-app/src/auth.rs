//! Who is calling: API tokens, accounts with Argon2id passwords, and login sessions. Only
//! SHA-256 digests of token and session secrets are stored; secrets are shown once.

use crate::error::AppError;
use crate::App;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use chrono::Duration;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use usalama_domain::{OrgId, Permission, Role, DEFAULT_ORG};
use usalama_store::{SessionRecord, TokenRecord, UserRecord};
use uuid::Uuid;

/// How long a login session lasts.
pub const SESSION_HOURS: i64 = 12;
/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

/// The caller of a use-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Not logged in: public pages only.
    Anonymous,
    /// The operator at the command line, who holds the data directory or database
    /// credentials and so acts as an administrator.
    Operator,
    /// An API token.
    Token {
        /// The token's label.
        label: String,
        /// The role it grants.
        role: Role,
        /// The organisation whose records it may see.
        org: OrgId,
    },
    /// A logged-in account.
    User {
        /// Account id.
        id: Uuid,
        /// Login name.
        username: String,
        /// Role.
        role: Role,
        /// The account's organisation.
        org: OrgId,
    },
}

impl Principal {
    /// The role, if authenticated.
    pub fn role(&self) -> Option<Role> {
        match self {
            Self::Anonymous => None,
            Self::Operator => Some(Role::Admin),
            Self::Token { role, .. } | Self::User { role, .. } => Some(*role),
        }
    }
    /// The organisation, for accounts and tokens.
    pub fn org(&self) -> Option<OrgId> {
        match self {
            Self::Anonymous | Self::Operator => None,
            Self::Token { org, .. } | Self::User { org, .. } => Some(*org),
        }
    }
    /// Whether the caller holds `p` (the operator holds every permission).
    pub fn may(&self, p: Permission) -> bool {
        self.role().is_some_and(|r| r.may(p))
    }
    /// A name for audit and metadata: the username or `token:label`.
    pub fn name(&self) -> Option<String> {
        match self {
            Self::Anonymous => None,
            Self::Operator => Some("cli".into()),
            Self::Token { label, .. } => Some(format!("token:{label}")),
            Self::User { username, .. } => Some(username.clone()),
        }
    }
}

/// The cost of Argon2id password hashes. The default, 96 MiB and 4 passes (1 lane), is
/// well above OWASP's recommended minimum (19 MiB × 2 passes, or 46 MiB × 1): about 0.4 s
/// of CPU per verification on the 2-core build machine (release build), so a log-in is at
/// least 250 ms of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
}

impl Default for PasswordCost {
    fn default() -> Self {
        Self {
            memory_kib: 98_304,
            iterations: 4,
        }
    }
}

impl PasswordCost {
    /// OWASP's minimum (19 MiB, 2 passes, 1 lane): the least [`App::with_password_cost`]
    /// accepts.
    pub const OWASP_MINIMUM: PasswordCost = PasswordCost {
        memory_kib: 19_456,
        iterations: 2,
    };

    fn hasher(&self) -> Result<Argon2<'static>, AppError> {
        let params = argon2::Params::new(self.memory_kib, self.iterations, 1, None)
            .map_err(|_| AppError::Crypto)?;
        Ok(Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            params,
        ))
    }
}

/// What a log-in presents.
#[derive(Debug, Clone, Default)]
pub struct LoginAttempt<'a> {
    /// Account name.
    pub username: &'a str,
    /// Password.
    pub password: &'a str,
    /// The TOTP code, for accounts with a second factor.
    pub code: Option<&'a str>,
    /// A key for the client (its address), for per-client throttling; kept in memory only.
    pub client: Option<&'a str>,
}

/// A secret shown once to its owner (an API token or a session cookie). Debug output
/// never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret(String);

impl TokenSecret {
    /// The secret text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret(***)")
    }
}

fn new_secret(prefix: &str) -> TokenSecret {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    TokenSecret(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// SHA-256 of a secret, as stored.
pub(crate) fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A random password of 20 characters from an unambiguous alphabet.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// A throw-away hash to verify against when an account is unknown or locked, so that
/// every failed log-in takes as long and a form cannot be used to list accounts.
fn dummy_hash(cost: &PasswordCost) -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        cost.hasher()
            .and_then(|h| {
                h.hash_password(random_password().as_bytes(), &salt)
                    .map(|h| h.to_string())
                    .map_err(|_| AppError::Crypto)
            })
            .unwrap_or_default()
    })
}

/// Whether `password` matches the PHC string `stored` (with the parameters it records).
fn password_matches(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Whether a stored hash is weaker than `cost` (then it is hashed again at the next
/// successful log-in).
fn weaker_than(stored: &str, cost: &PasswordCost) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        let get = |k: &str| h.params.get_decimal(k).unwrap_or(0);
        h.algorithm.as_str() != "argon2id"
            || get("m") < cost.memory_kib
            || get("t") < cost.iterations
    })
}

fn check_username(username: &str) -> Result<&str, AppError> {
    let username = username.trim();
    if username.is_empty()
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(AppError::invalid(
            "username",
            "use 1-64 letters, digits, '.', '_', '-' or '@'",
        ));
    }
    Ok(username)
}

fn check_password(password: &str) -> Result<(), AppError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::invalid(
            "password",
            format!("must have at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if password.len() > 1024 {
        return Err(AppError::invalid(
            "password",
            "must have at most 1024 bytes",
        ));
    }
    Ok(())
}

impl App {
    /// Requires a caller holding `p`: `Unauthenticated` for anonymous callers, `Forbidden`
    /// for roles without it. Every use-case calls this (or a helper named after the
    /// permission) before anything else.
    pub(crate) fn require(&self, who: &Principal, p: Permission) -> Result<(), AppError> {
        match who.role() {
            None => Err(AppError::Unauthenticated),
            Some(r) if r.may(p) => Ok(()),
            Some(r) => Err(AppError::Forbidden(r.to_string())),
        }
    }

    /// Requires a caller that may manage accounts of `org` with `role`: administrators any,
    /// organisation admins only their own organisation's, and never an administrator.
    fn require_account_manager(
        &self,
        who: &Principal,
        org: OrgId,
        role: Role,
    ) -> Result<(), AppError> {
        self.require(who, Permission::ManageUsers)?;
        if who.may(Permission::ManageOrganisations) {
            return Ok(());
        }
        let forbidden =
            || AppError::Forbidden(who.role().map(|r| r.to_string()).unwrap_or_default());
        if who.org() != Some(org) || role == Role::Admin {
            return Err(forbidden());
        }
        Ok(())
    }

    /// Hashes a password with the configured cost.
    fn hash_password(&self, password: &str) -> Result<String, AppError> {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Ok(self
            .password_cost
            .hasher()?
            .hash_password(password.as_bytes(), &salt)
            .map_err(|_| AppError::Crypto)?
            .to_string())
    }

    /// Creates an API token with `role` in the default organisation, without expiry (the
    /// operator's shortcut); the secret is returned once and only its hash kept.
    pub fn create_token(&self, role: Role, label: &str) -> Result<TokenSecret, AppError> {
        self.create_token_for(&Principal::Operator, role, label, None, None)
    }

    /// Creates an API token with `role` for `org` (default: the caller's, else the default
    /// organisation), valid until `expires_at` if given. Organisation admins create tokens
    /// for their own organisation only. The secret is returned once; only its hash is kept.
    pub fn create_token_for(
        &self,
        who: &Principal,
        role: Role,
        label: &str,
        org: Option<OrgId>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<TokenSecret, AppError> {
        let org = org.or(who.org()).unwrap_or(DEFAULT_ORG);
        self.require_account_manager(who, org, role)?;
        let label = label.trim();
        if label.is_empty() || label.len() > 100 {
            return Err(AppError::invalid("label", "must have 1 to 100 characters"));
        }
        if expires_at.is_some_and(|t| t <= self.now()) {
            return Err(AppError::invalid("expires", "must be in the future"));
        }
        let secret = new_secret("usa_");
        self.store.insert_token(&TokenRecord {
            id: Uuid::new_v4(),
            token_hash: digest(secret.expose()),
            role,
            label: label.to_string(),
            created_at: self.now(),
            revoked_at: None,
            org,
            expires_at,
        })?;
        self.audit(
            &Principal::Operator,
            "token.create",
            ("token", label.to_string()),
            serde_json::json!({"role": role.as_str()}),
        )?;
        Ok(secret)
    }

    /// Revokes every token with this label; returns how many.
    pub fn revoke_tokens(&self, label: &str) -> Result<u64, AppError> {
        let n = self.store.revoke_tokens(label, self.now())?;
        self.audit(
            &Principal::Operator,
            "token.revoke",
            ("token", label.to_string()),
            serde_json::json!({"revoked": n}),
        )?;
        Ok(n)
    }

    /// The principal of a bearer token, or `Unauthenticated` when unknown, revoked or
    /// expired.
    pub fn authenticate_token(&self, secret: &str) -> Result<Principal, AppError> {
        let secret = secret.trim();
        if secret.is_empty() || secret.len() > 200 {
            return Err(AppError::Unauthenticated);
        }
        let now = self.now();
        match self.store.find_token(&digest(secret))? {
            Some(t) if t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > now) => {
                Ok(Principal::Token {
                    label: t.label,
                    role: t.role,
                    org: t.org,
                })
            }
            _ => Err(AppError::Unauthenticated),
        }
    }

    /// Creates the account or sets its password and role (the operator's shortcut: a new
    /// account joins the default organisation, an existing one keeps its own).
    pub fn set_password(&self, username: &str, password: &str, role: Role) -> Result<(), AppError> {
        let org = self
            .store
            .find_user(username.trim())?
            .map_or(DEFAULT_ORG, |u| u.org);
        self.set_account(&Principal::Operator, username, password, role, org)
    }

    /// Creates the account `username` in `org` with `role` and `password`, or sets the
    /// password, role and organisation of the existing one (enabling it and ending its
    /// sessions). Organisation admins manage only their own organisation's accounts.
    pub fn set_account(
        &self,
        who: &Principal,
        username: &str,
        password: &str,
        role: Role,
        org: OrgId,
    ) -> Result<(), AppError> {
        let username = check_username(username)?;
        let existing = self.store.find_user(username)?;
        if let Some(u) = &existing {
            self.require_account_manager(who, u.org, u.role)?;
        }
        self.require_account_manager(who, org, role)?;
        check_password(password)?;
        let hash = self.hash_password(password)?;
        let id = existing.as_ref().map_or_else(Uuid::new_v4, |u| u.id);
        self.store.upsert_user(&UserRecord {
            id,
            username: username.to_string(),
            password_hash: hash,
            role,
            created_at: existing
                .as_ref()
                .map_or_else(|| self.now(), |u| u.created_at),
            disabled_at: None,
            org,
            failed_logins: 0,
            locked_until: None,
            totp_secret: None,
            totp_sealed: None,
        })?;
        self.audit(
            who,
            if existing.is_some() {
                "user.update"
            } else {
                "user.add"
            },
            ("user", username.to_string()),
            serde_json::json!({"role": role.as_str()}),
        )?;
        if existing.is_some() {
            self.store.delete_user_sessions(id)?;
            self.store.reset_login_failures(id)?;
        }
        Ok(())
    }

    /// An account the caller may manage.
    pub(crate) fn managed_account(
        &self,
        who: &Principal,
        username: &str,
    ) -> Result<UserRecord, AppError> {
        let u = self
            .store
            .find_user(username.trim())?
            .ok_or(AppError::NotFound("account"))?;
        self.require_account_manager(who, u.org, u.role)?;
        Ok(u)
    }

    /// Sets an account's password, keeping its role and organisation; ends its sessions
    /// and lifts any lock.
    pub fn change_password(
        &self,
        who: &Principal,
        username: &str,
        password: &str,
    ) -> Result<(), AppError> {
        let u = self.managed_account(who, username)?;
        self.set_account(who, &u.username, password, u.role, u.org)
    }

    /// Disables (or enables again) an account; disabling ends its sessions at once.
    pub fn set_disabled(
        &self,
        who: &Principal,
        username: &str,
        disabled: bool,
    ) -> Result<(), AppError> {
        let u = self.managed_account(who, username)?;
        self.store
            .set_user_disabled(u.id, disabled.then(|| self.now()))?;
        self.audit(
            who,
            if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            ("user", u.username),
            serde_json::json!({}),
        )
    }

    /// Lifts an account's log-in lock and forgets its failed log-ins.
    pub fn unlock_account(&self, who: &Principal, username: &str) -> Result<(), AppError> {
        let u = self.managed_account(who, username)?;
        self.store.reset_login_failures(u.id)?;
        self.audit(
            who,
            "user.unlock",
            ("user", u.username),
            serde_json::json!({}),
        )
    }

    /// Enrolls a new TOTP second factor for the account (replacing any previous one) and
    /// returns the `otpauth://` URI to show once to its owner.
    pub fn enroll_totp(&self, who: &Principal, username: &str) -> Result<String, AppError> {
        let u = self.managed_account(who, username)?;
        let mut secret = [0u8; crate::totp::SECRET_LEN];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let sealed = self.seal_totp(u.id, &secret)?;
        self.store.set_user_totp(u.id, Some(&sealed))?;
        self.audit(
            who,
            "user.totp_enroll",
            ("user", u.username.clone()),
            serde_json::json!({}),
        )?;
        Ok(crate::totp::otpauth_uri("Usalama", &u.username, &secret))
    }

    /// Removes the account's second factor.
    pub fn remove_totp(&self, who: &Principal, username: &str) -> Result<(), AppError> {
        let u = self.managed_account(who, username)?;
        self.store.set_user_totp(u.id, None)?;
        self.audit(
            who,
            "user.totp_remove",
            ("user", u.username),
            serde_json::json!({}),
        )
    }

    /// Checks a name and password (and the TOTP code when the account has a second
    /// factor) under the throttling rules: a blocked client gets `RateLimited`; an unknown,
    /// disabled or locked account and a wrong password or code all get the same
    /// `Unauthenticated`, after the same work; a right password without the code an
    /// enrolled account needs gets `SecondFactorRequired`.
    pub(crate) fn verify_account(&self, a: &LoginAttempt<'_>) -> Result<UserRecord, AppError> {
        let now = self.now();
        if let Some(until) = a.client.and_then(|c| self.throttle.blocked_until(c, now)) {
            return Err(AppError::RateLimited {
                retry_after_secs: (until - now).num_seconds().max(1) as u64,
            });
        }
        let fail = |user: Option<&UserRecord>| -> Result<UserRecord, AppError> {
            if let Some(c) = a.client {
                self.throttle.failed(c, now, &self.login_policy);
            }
            if let Some(u) = user {
                let policy = self.login_policy;
                self.store.record_login_failure(u.id, &|n| {
                    policy
                        .lock_for(n, policy.account_free_failures)
                        .map(|d| now + d)
                })?;
            }
            Err(AppError::Unauthenticated)
        };
        if a.username.len() > 64 || a.password.len() > 1024 {
            return fail(None);
        }
        let user = self.store.find_user(a.username.trim())?;
        let usable = user
            .as_ref()
            .filter(|u| u.disabled_at.is_none() && u.locked_until.is_none_or(|t| t <= now));
        let stored = usable.map_or(dummy_hash(&self.password_cost), |u| {
            u.password_hash.as_str()
        });
        let ok = password_matches(stored, a.password);
        let Some(u) = usable.filter(|_| ok) else {
            // A locked account's failures do not lengthen its lock.
            return fail(usable);
        };
        // The sealed secret, else one enrolled before secrets were sealed (sealed at the
        // next start).
        let secret = match (&u.totp_sealed, &u.totp_secret) {
            (Some(sealed), _) => Some(self.open_totp(u.id, sealed)?),
            (None, clear) => clear.clone(),
        };
        if let Some(secret) = &secret {
            match a.code.map(str::trim).filter(|c| !c.is_empty()) {
                None => return Err(AppError::SecondFactorRequired),
                Some(code) if !crate::totp::verify(secret, code, now.timestamp()) => {
                    return fail(Some(u));
                }
                Some(_) => {}
            }
        }
        let u = u.clone();
        if u.failed_logins > 0 || u.locked_until.is_some() {
            self.store.reset_login_failures(u.id)?;
        }
        if let Some(c) = a.client {
            self.throttle.succeeded(c);
        }
        if weaker_than(&u.password_hash, &self.password_cost) {
            let mut again = u.clone();
            again.password_hash = self.hash_password(a.password)?;
            self.store.upsert_user(&again)?;
        }
        Ok(u)
    }

    /// Checks a password and opens a session; the returned secret goes in a cookie.
    pub fn login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<(TokenSecret, Principal), AppError> {
        self.login_with(&LoginAttempt {
            username,
            password,
            ..Default::default()
        })
    }

    /// Checks a log-in (name, password and second factor, throttled) and opens a new
    /// session; the returned secret goes in a cookie. Callers end the session the client
    /// had before, so that a session id never survives a log-in.
    pub fn login_with(&self, a: &LoginAttempt<'_>) -> Result<(TokenSecret, Principal), AppError> {
        let user = self.verify_account(a)?;
        let secret = new_secret("uss_");
        let now = self.now();
        self.store.insert_session(&SessionRecord {
            token_hash: digest(secret.expose()),
            user_id: user.id,
            created_at: now,
            expires_at: now + Duration::hours(SESSION_HOURS),
        })?;
        Ok((
            secret,
            Principal::User {
                id: user.id,
                username: user.username,
                role: user.role,
                org: user.org,
            },
        ))
    }

    /// The principal of a session cookie, or `Unauthenticated` when unknown or expired.
    pub fn session(&self, secret: &str) -> Result<Principal, AppError> {
        if secret.is_empty() || secret.len() > 200 {
            return Err(AppError::Unauthenticated);
        }
        match self.store.find_session(&digest(secret))? {
            Some((s, u)) if s.expires_at > self.now() && u.disabled_at.is_none() => {
                Ok(Principal::User {
                    id: u.id,
                    username: u.username,
                    role: u.role,
                    org: u.org,
                })
            }
            _ => Err(AppError::Unauthenticated),
        }
    }

    /// Ends a session.
    pub fn logout(&self, secret: &str) -> Result<(), AppError> {
        Ok(self.store.delete_session(&digest(secret))?)
    }

    /// Requires a caller allowed to read event records.
    pub(crate) fn require_reader(&self, who: &Principal) -> Result<(), AppError> {
        self.require(who, Permission::ReadEvents)
    }
}
