//! The served XForm and the XLSForm in `docs/odk/report.xlsform.md` are the same form: the
//! XLSForm is converted by `pyxform` (the converter ODK and KoboToolbox use) and both must
//! bind the same fields to the same types, with the same required fields and the same
//! choice lists. Needs Python 3 with pyxform (`pip install pyxform`; `.ci/run` installs it).

use quick_xml::events::Event;
use quick_xml::Reader;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use usalama_ingest::openrosa::xform;
use usalama_ingest::{parse_taxonomy, DEFAULT_TAXONOMY};

/// (nodeset, type, required) of every `<bind>`, and the item names of every secondary
/// instance by id.
type FormShape = (
    BTreeSet<(String, String, bool)>,
    BTreeMap<String, Vec<String>>,
);

fn shape(xml: &str) -> FormShape {
    let mut binds = BTreeSet::new();
    let mut lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut r = Reader::from_str(xml);
    r.config_mut().trim_text(true);
    let mut list: Option<String> = None;
    let mut in_name = false;
    loop {
        match r.read_event().expect("well-formed XForm") {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"bind" => {
                let mut nodeset = String::new();
                let mut ty = String::new();
                let mut required = false;
                for a in e.attributes().flatten() {
                    let v = a.unescape_value().unwrap().into_owned();
                    match a.key.local_name().as_ref() {
                        b"nodeset" => nodeset = v,
                        b"type" => ty = v,
                        b"required" => required = v == "true()",
                        _ => {}
                    }
                }
                binds.insert((nodeset, ty, required));
            }
            Event::Start(e) if e.local_name().as_ref() == b"instance" => {
                list = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.local_name().as_ref() == b"id")
                    .map(|a| a.unescape_value().unwrap().into_owned());
            }
            Event::End(e) if e.local_name().as_ref() == b"instance" => list = None,
            Event::Start(e) if e.local_name().as_ref() == b"name" => in_name = list.is_some(),
            Event::End(e) if e.local_name().as_ref() == b"name" => in_name = false,
            Event::Text(t) if in_name => {
                if let Some(l) = &list {
                    lists
                        .entry(l.clone())
                        .or_default()
                        .push(t.unescape().unwrap().into_owned());
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (binds, lists)
}

#[test]
fn pyxform_makes_the_same_form_from_the_xlsform() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let source = root.join("docs/odk/report.xlsform.md");
    let out_dir = std::env::temp_dir().join(format!("usalama-xlsform-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join("report.xml");
    let run = Command::new("python3")
        .args(["-m", "pyxform.xls2xform", "--skip_validate"])
        .arg(&source)
        .arg(&out)
        .output();
    let run = match run {
        Ok(r) => r,
        Err(e) => panic!("python3 is needed for this test and could not be run ({e}); install Python 3 and `pip install pyxform`"),
    };
    assert!(
        run.status.success(),
        "pyxform failed or is missing: install it with `pip install pyxform`.\n{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let theirs = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_dir_all(&out_dir);

    let taxonomy = parse_taxonomy(DEFAULT_TAXONOMY).unwrap();
    let ours = xform(&taxonomy);
    let (our_binds, our_lists) = shape(&ours);
    let (their_binds, their_lists) = shape(&theirs);
    assert!(our_binds.len() > 10, "{our_binds:?}");
    assert_eq!(
        our_binds, their_binds,
        "the served XForm and docs/odk/report.xlsform.md bind different fields"
    );
    assert_eq!(
        our_lists, their_lists,
        "the choice lists differ: update docs/odk/report.xlsform.md with the taxonomy"
    );
    assert_eq!(our_lists["category"].len(), taxonomy.categories().len());
}
