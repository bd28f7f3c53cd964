//! Property test of the audit chain: any edit, deletion, reordering or truncation of a
//! log is detected by the verifier (a truncation that also rewrites the recorded head is
//! detected against a checkpoint taken before).

use chrono::DateTime;
use proptest::prelude::*;
use usalama_store::audit::{chain, GENESIS};
use usalama_store::{AuditDraft, AuditEntry, AuditHead, ChainVerifier};

fn drafts(n: usize, seed: &[u32]) -> Vec<AuditDraft> {
    (0..n)
        .map(|i| {
            let x = seed[i % seed.len()];
            AuditDraft::new(
                DateTime::from_timestamp(1_700_000_000 + i64::from(x % 100_000), 0).unwrap(),
                format!("user{}", x % 7),
                ["report.intake", "personal.read", "event.decide"][(x % 3) as usize],
                ("event", format!("e{i}-{x}")),
                serde_json::json!({"n": x}),
            )
        })
        .collect()
}

fn head_of(es: &[AuditEntry]) -> AuditHead {
    es.last().map_or(
        AuditHead {
            seq: 0,
            hash: GENESIS.to_vec(),
        },
        |e| AuditHead {
            seq: e.seq,
            hash: e.hash.clone(),
        },
    )
}

fn verifies(es: &[AuditEntry], stored_head: &AuditHead, cp: Option<AuditHead>) -> bool {
    let mut v = ChainVerifier::new(cp);
    es.iter().all(|e| v.push(e).is_ok()) && v.finish(stored_head).is_ok()
}

#[derive(Debug, Clone)]
enum Tamper {
    Edit { at: usize, field: u8, byte: u8 },
    Delete { at: usize },
    Swap { a: usize, b: usize },
    Truncate { keep: usize, rewrite_head: bool },
}

fn tamper() -> impl Strategy<Value = Tamper> {
    prop_oneof![
        (any::<usize>(), 0u8..8, any::<u8>()).prop_map(|(at, field, byte)| Tamper::Edit {
            at,
            field,
            byte
        }),
        any::<usize>().prop_map(|at| Tamper::Delete { at }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Tamper::Swap { a, b }),
        (any::<usize>(), any::<bool>())
            .prop_map(|(keep, rewrite_head)| Tamper::Truncate { keep, rewrite_head }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn any_tampering_is_detected(n in 2usize..24, seed in proptest::collection::vec(any::<u32>(), 1..8), t in tamper()) {
        let genesis = AuditHead { seq: 0, hash: GENESIS.to_vec() };
        let log = chain(&genesis, drafts(n, &seed));
        let head = head_of(&log);
        prop_assert!(verifies(&log, &head, Some(head.clone())));
        let mut es = log.clone();
        let mut stored_head = head.clone();
        match t {
            Tamper::Edit { at, field, byte } => {
                let e = &mut es[at % n];
                let flip = |s: &mut String| s.push(char::from(b'a' + byte % 26));
                match field {
                    0 => flip(&mut e.draft.actor),
                    1 => flip(&mut e.draft.action),
                    2 => flip(&mut e.draft.target_type),
                    3 => flip(&mut e.draft.target_id),
                    4 => e.draft.details = format!("{{\"n\":{}}}", u32::from(byte) + 1_000_000),
                    5 => e.draft.at += chrono::Duration::seconds(i64::from(byte) + 1),
                    6 => e.prev_hash[usize::from(byte) % 32] ^= 1,
                    _ => e.hash[usize::from(byte) % 32] ^= 1,
                }
            }
            Tamper::Delete { at } => {
                es.remove(at % n);
            }
            Tamper::Swap { a, b } => {
                let (a, b) = (a % n, b % n);
                let b = if a == b { (b + 1) % n } else { b };
                es.swap(a, b);
            }
            Tamper::Truncate { keep, rewrite_head } => {
                es.truncate(keep % n);
                if rewrite_head {
                    stored_head = head_of(&es);
                }
            }
        }
        prop_assert_ne!(&es, &log);
        // Against the recorded head and the checkpoint taken before: always detected.
        prop_assert!(!verifies(&es, &stored_head, Some(head.clone())));
        // Without a checkpoint, everything but a truncation that rewrote the head.
        let head_rewritten = stored_head != head;
        if !head_rewritten {
            prop_assert!(!verifies(&es, &stored_head, None));
        }
    }
}
