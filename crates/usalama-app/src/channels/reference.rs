//! Report references: a short code a reporter can write down or read over the phone,
//! derived from the event id, in Crockford's base 32 (no I, L, O or U, so nothing can be
//! misread), e.g. `7KQ3M-XD2PA`. Reading one back forgives case, spaces, hyphens and the
//! look-alikes O/0 and I/L/1.

use sha2::{Digest, Sha256};
use usalama_domain::EventId;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a reference, without the hyphen.
const LEN: usize = 10;

/// The reference of a report: 50 bits of the SHA-256 of its id, as `XXXXX-XXXXX`.
pub fn reference_for(id: EventId) -> String {
    let d = Sha256::digest(id.as_uuid().as_bytes());
    let mut n = u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]) >> 14;
    let mut chars = [b'0'; LEN];
    for c in chars.iter_mut().rev() {
        *c = ALPHABET[(n & 31) as usize];
        n >>= 5;
    }
    let s: String = chars.iter().map(|&b| b as char).collect();
    format!("{}-{}", &s[..5], &s[5..])
}

/// The canonical form of a typed reference, or `None` when it cannot be one.
pub fn normalize_reference(typed: &str) -> Option<String> {
    let mut out = String::with_capacity(LEN + 1);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' | '\u{2010}'..='\u{2015}' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if ALPHABET.contains(&(c as u8)) && c.is_ascii() => c,
            _ => return None,
        };
        out.push(c);
        if out.len() > LEN {
            return None;
        }
    }
    if out.len() != LEN {
        return None;
    }
    out.insert(5, '-');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_short_stable_and_forgiving() {
        let id = EventId::derived("x");
        let r = reference_for(id);
        assert_eq!(r.len(), 11);
        assert_eq!(r, reference_for(id));
        assert_ne!(r, reference_for(EventId::derived("y")));
        assert!(r.chars().all(|c| c == '-' || ALPHABET.contains(&(c as u8))));
        assert_eq!(normalize_reference(&r).as_deref(), Some(r.as_str()));
        let sloppy = r.to_lowercase().replace('-', " ");
        assert_eq!(normalize_reference(&sloppy).as_deref(), Some(r.as_str()));
        assert_eq!(
            normalize_reference("oi1l0-abcde").as_deref(),
            Some("01110-ABCDE")
        );
        assert_eq!(normalize_reference("ABCDE-FGHJU"), None, "U is not used");
        assert_eq!(normalize_reference("ABCD"), None);
        assert_eq!(normalize_reference("ABCDE-FGHJK-M"), None);
        assert_eq!(normalize_reference("ÀBCDE-FGHJK"), None);
    }
}
