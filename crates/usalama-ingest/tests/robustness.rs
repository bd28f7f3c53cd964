//! Property tests: the SMS parser, the OpenRosa instance reader and the gazetteer take any
//! input (any script, any bytes, XML-like fragments in any order) without panicking.

use proptest::prelude::*;
use usalama_domain::{AdminLevel, Locality, LocalityCode};
use usalama_ingest::gazetteer::{fold, Gazetteer};
use usalama_ingest::openrosa::read_submission;
use usalama_ingest::sms::{parse_sms, parse_sms_syntax, DEFAULT_SMS_SYNTAX};
use usalama_ingest::{parse_taxonomy, DEFAULT_TAXONOMY};

fn gazetteer() -> Gazetteer {
    let l = |code: &str, name: &str, level, alt: &[&str]| {
        Locality::new(
            LocalityCode::new(code).unwrap(),
            name,
            level,
            None,
            None,
            None,
        )
        .unwrap()
        .with_alt_names(alt.iter().map(|s| s.to_string()))
    };
    Gazetteer::new(&[
        l("A1", "Ouham-Pendé", AdminLevel::Adm1, &["Ouham Pende"]),
        l("A2", "Bambari", AdminLevel::Adm2, &[]),
        l("A3", "القرية", AdminLevel::Adm3, &["Al-Qarya"]),
        l("A4", "Ködörö", AdminLevel::Adm3, &["Kodoro"]),
    ])
}

/// Words and separators that make messages close to the syntax.
fn message() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        Just("KILL".to_string()),
        Just("tué".to_string()),
        Just("FLEE".to_string()),
        Just("Bambari".to_string()),
        Just("ouham".to_string()),
        Just("pende".to_string()),
        Just("القرية".to_string()),
        Just("-3".to_string()),
        Just("99999999999999999999".to_string()),
        Just(",".to_string()),
        Just(";;".to_string()),
        Just("#".to_string()),
        "[0-9]{1,4}",
        "\\PC{0,12}",
    ];
    prop::collection::vec(word, 0..10).prop_map(|w| w.join(" "))
}

/// Fragments that make inputs close to an instance.
fn xmlish() -> impl Strategy<Value = String> {
    let frag = prop_oneof![
        Just("<data id=\"usalama_report\" version=\"1\">".to_string()),
        Just("</data>".to_string()),
        Just("<people>".to_string()),
        Just("</people>".to_string()),
        Just("<meta><instanceID>uuid:x</instanceID></meta>".to_string()),
        Just("<orx:meta>".to_string()),
        Just("<category>armed_violence</category>".to_string()),
        Just("<killed>-2</killed>".to_string()),
        Just("<![CDATA[ <x> ]]>".to_string()),
        Just("&amp;".to_string()),
        Just("&#x0;".to_string()),
        Just("&#xD800;".to_string()),
        Just("&bogus;".to_string()),
        Just("<!DOCTYPE x>".to_string()),
        Just("<?xml version='1.0'?>".to_string()),
        Just("<!-- c -->".to_string()),
        Just("<a b='1' b='2'>".to_string()),
        Just("<".to_string()),
        Just(">".to_string()),
        "\\PC{0,8}",
    ];
    prop::collection::vec(frag, 0..16).prop_map(|f| f.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn sms_parser_never_panics(text in message()) {
        let t = parse_taxonomy(DEFAULT_TAXONOMY).unwrap();
        let syntax = parse_sms_syntax(DEFAULT_SMS_SYNTAX, &t).unwrap();
        let _ = parse_sms(&text, &syntax, &gazetteer());
    }

    #[test]
    fn sms_parser_never_panics_on_any_text(text in "\\PC{0,80}") {
        let t = parse_taxonomy(DEFAULT_TAXONOMY).unwrap();
        let syntax = parse_sms_syntax(DEFAULT_SMS_SYNTAX, &t).unwrap();
        let _ = parse_sms(&text, &syntax, &gazetteer());
    }

    #[test]
    fn instance_reader_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = read_submission(&bytes);
    }

    #[test]
    fn instance_reader_never_panics_on_xml_fragments(xml in xmlish()) {
        let _ = read_submission(xml.as_bytes());
    }

    #[test]
    fn gazetteer_never_panics(text in "\\PC{0,40}") {
        let g = gazetteer();
        let folded = fold(&text);
        prop_assert!(!folded.starts_with(' ') && !folded.ends_with(' '));
        let _ = g.search(&text, 5);
        let _ = g.resolve(&text);
    }
}
