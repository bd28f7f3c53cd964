//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), the
//! optional second factor of accounts. HMAC (RFC 2104) is written here over `sha1_smol`,
//! which the dependency tree already holds (UUIDv5), rather than adding a TOTP crate and
//! its own dependencies; the RFC's test vectors check it.

use sha1_smol::Sha1;

/// Bytes of a new TOTP secret (160 bits, as RFC 4226 recommends).
pub const SECRET_LEN: usize = 20;
/// Seconds per step.
pub const STEP: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;

fn hmac_sha1(key: &[u8], msg: &[u8]) -> [u8; 20] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..20].copy_from_slice(&Sha1::from(key).digest().bytes());
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha1::new();
    inner.update(&k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha1::new();
    outer.update(&k.map(|b| b ^ 0x5c));
    outer.update(&inner.digest().bytes());
    outer.digest().bytes()
}

/// The HOTP value (RFC 4226) of `counter`, with `digits` digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let h = hmac_sha1(secret, &counter.to_be_bytes());
    let o = (h[19] & 0x0f) as usize;
    let bin = (u32::from(h[o]) & 0x7f) << 24
        | u32::from(h[o + 1]) << 16
        | u32::from(h[o + 2]) << 8
        | u32::from(h[o + 3]);
    bin % 10u32.pow(digits)
}

/// Whether `code` is the TOTP of `secret` at `unix_time`, one step either side allowed for
/// clock drift. Anything but exactly six digits is refused.
pub fn verify(secret: &[u8], code: &str, unix_time: i64) -> bool {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(typed) = code.parse::<u32>() else {
        return false;
    };
    let step = unix_time.div_euclid(STEP);
    let mut ok = false;
    for s in [step - 1, step, step + 1] {
        if s >= 0 {
            // No early exit: every candidate costs the same.
            ok |= hotp(secret, s as u64, DIGITS) == typed;
        }
    }
    ok
}

/// RFC 4648 base32 without padding, as authenticator apps read secrets.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buf, mut bits) = (0u64, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The `otpauth://` URI an authenticator app enrolls from (as text or a QR code).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (8 digits), and RFC 2202 HMAC-SHA1 case 1.
    #[test]
    fn rfc_6238_vectors() {
        let secret = b"12345678901234567890";
        for (t, want) in [
            (59i64, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp(secret, (t / 30) as u64, 8), want, "t={t}");
        }
        let mac = hmac_sha1(&[0x0b; 20], b"Hi There");
        assert_eq!(
            mac.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "b617318655057264e28bc0b6fb378c8ef146be00"
        );
    }

    #[test]
    fn accepts_one_step_of_drift_and_nothing_else() {
        let secret = b"12345678901234567890";
        let now = 1_234_567_890;
        let code = |t: i64| format!("{:06}", hotp(secret, (t / 30) as u64, 6));
        assert!(verify(secret, &code(now), now));
        assert!(verify(secret, &code(now - 30), now));
        assert!(verify(secret, &code(now + 30), now));
        assert!(!verify(secret, &code(now - 90), now));
        assert!(!verify(secret, "12345", now));
        assert!(!verify(secret, "12345a", now));
        assert!(!verify(secret, "", now));
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
        assert!(otpauth_uri("Usalama", "ana", b"12345678901234567890")
            .starts_with("otpauth://totp/Usalama:ana?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&"));
    }
}
