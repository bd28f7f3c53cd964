//! Who is calling: API tokens, accounts with Argon2id passwords, and login sessions. Only
//! SHA-256 digests of token and session secrets are stored; secrets are shown once.

use crate::error::AppError;
use crate::App;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use chrono::Duration;
use rand::RngCore;
use sha2::{Digest, Sha256};
use usalama_domain::Role;
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
    },
    /// A logged-in account.
    User {
        /// Account id.
        id: Uuid,
        /// Login name.
        username: String,
        /// Role.
        role: Role,
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

impl App {
    /// Creates an API token with `role`; the secret is returned once and only its hash kept.
    pub fn create_token(&self, role: Role, label: &str) -> Result<TokenSecret, AppError> {
        let label = label.trim();
        if label.is_empty() || label.len() > 100 {
            return Err(AppError::invalid("label", "must have 1 to 100 characters"));
        }
        let secret = new_secret("usa_");
        self.store.insert_token(&TokenRecord {
            id: Uuid::new_v4(),
            token_hash: digest(secret.expose()),
            role,
            label: label.to_string(),
            created_at: self.now(),
            revoked_at: None,
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

    /// The principal of a bearer token, or `Unauthenticated`.
    pub fn authenticate_token(&self, secret: &str) -> Result<Principal, AppError> {
        let secret = secret.trim();
        if secret.is_empty() || secret.len() > 200 {
            return Err(AppError::Unauthenticated);
        }
        match self.store.find_token(&digest(secret))? {
            Some(t) if t.revoked_at.is_none() => Ok(Principal::Token {
                label: t.label,
                role: t.role,
            }),
            _ => Err(AppError::Unauthenticated),
        }
    }

    /// Creates the account or sets its password and role.
    pub fn set_password(&self, username: &str, password: &str, role: Role) -> Result<(), AppError> {
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
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(AppError::invalid(
                "password",
                format!("must have at least {MIN_PASSWORD_LEN} characters"),
            ));
        }
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|_| AppError::Crypto)?
            .to_string();
        let existing = self.store.find_user(username)?;
        self.store.upsert_user(&UserRecord {
            id: existing.as_ref().map_or_else(Uuid::new_v4, |u| u.id),
            username: username.to_string(),
            password_hash: hash,
            role,
            created_at: existing
                .as_ref()
                .map_or_else(|| self.now(), |u| u.created_at),
            disabled_at: None,
        })?;
        self.audit(
            &Principal::Operator,
            if existing.is_some() {
                "user.update"
            } else {
                "user.add"
            },
            ("user", username.to_string()),
            serde_json::json!({"role": role.as_str()}),
        )?;
        Ok(())
    }

    /// Checks a password and opens a session; the returned secret goes in a cookie.
    pub fn login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<(TokenSecret, Principal), AppError> {
        let user = self.store.find_user(username.trim())?;
        // Verify against a throw-away hash when the user is unknown, so that both cases take
        // as long and a login form cannot be used to list accounts.
        static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let dummy = DUMMY.get_or_init(|| {
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            Argon2::default()
                .hash_password(random_password().as_bytes(), &salt)
                .map(|h| h.to_string())
                .unwrap_or_default()
        });
        let stored = user
            .as_ref()
            .map_or(dummy.as_str(), |u| u.password_hash.as_str());
        let ok = PasswordHash::new(stored)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        let user = match user {
            Some(u) if ok && u.disabled_at.is_none() => u,
            _ => return Err(AppError::Unauthenticated),
        };
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
        match who.role() {
            None => Err(AppError::Unauthenticated),
            Some(r) if r.can_read_events() => Ok(()),
            Some(r) => Err(AppError::Forbidden(r.to_string())),
        }
    }

    /// Requires an administrator.
    pub(crate) fn require_admin(&self, who: &Principal) -> Result<(), AppError> {
        match who.role() {
            None => Err(AppError::Unauthenticated),
            Some(Role::Admin) => Ok(()),
            Some(r) => Err(AppError::Forbidden(r.to_string())),
        }
    }
}
