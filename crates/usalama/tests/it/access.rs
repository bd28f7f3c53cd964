//! The account, token and organisation commands: an organisation, an account in it, a
//! second factor, a lock lifted, an account disabled, a token with an organisation and an
//! expiry, and sharing; the errors name what is wrong.

use crate::common::run;
use std::process::Output;

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn organisations_accounts_and_tokens_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let d = d.to_str().unwrap();
    let cmd = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["--data-dir", d]);
        run(&a)
    };
    assert!(ok(&cmd(&["org", "add", "ngo-north"])).contains("organisation 'ngo-north' created"));
    ok(&cmd(&["org", "add", "ngo-south"]));
    let list = ok(&cmd(&["org", "list"]));
    assert_eq!(
        list.lines()
            .map(|l| l.split('\t').next().unwrap())
            .collect::<Vec<_>>(),
        ["default", "ngo-north", "ngo-south"]
    );
    let out = ok(&cmd(&[
        "user",
        "add",
        "ana",
        "--role",
        "analyst",
        "--org",
        "ngo-north",
    ]));
    assert!(out.starts_with("user 'ana' (analyst) password: "), "{out}");
    let uri = ok(&cmd(&["user", "totp", "ana"]));
    assert!(
        uri.starts_with("otpauth://totp/Usalama:ana?secret="),
        "{uri}"
    );
    assert!(ok(&cmd(&["user", "totp", "ana", "--remove"])).contains("second factor removed"));
    assert!(ok(&cmd(&["user", "unlock", "ana"])).contains("unlocked"));
    assert!(ok(&cmd(&["user", "disable", "ana"])).contains("disabled"));
    assert!(ok(&cmd(&["user", "disable", "ana", "--enable"])).contains("enabled"));
    let out = ok(&cmd(&["user", "passwd", "ana"]));
    assert!(out.starts_with("user 'ana' password: "), "{out}");
    let out = cmd(&[
        "token",
        "create",
        "--role",
        "analyst",
        "--label",
        "north-ci",
        "--org",
        "ngo-north",
        "--expires-days",
        "30",
    ]);
    assert!(ok(&out).trim().starts_with("usa_"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expires"));
    assert!(ok(&cmd(&[
        "org",
        "share",
        "ngo-south",
        "ngo-north",
        "--scope",
        "verified"
    ]))
    .contains("'ngo-north' now sees verified records of 'ngo-south'"));
    assert!(ok(&cmd(&[
        "org",
        "share",
        "ngo-south",
        "ngo-north",
        "--scope",
        "none"
    ]))
    .contains("no longer sees"));
    // Errors name what is wrong.
    let out = cmd(&[
        "user", "add", "bob", "--role", "analyst", "--org", "nowhere",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no organisation is named 'nowhere'"));
    let out = cmd(&["user", "passwd", "nobody"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("account not found"));
    let out = cmd(&["org", "share", "ngo-south", "ngo-north", "--scope", "some"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a sharing scope"));
}

#[test]
fn a_device_password_is_printed_once_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let d = d.to_str().unwrap();
    let cmd = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["--data-dir", d]);
        run(&a)
    };
    ok(&cmd(&["user", "add", "monitor", "--role", "reporter"]));
    let first = ok(&cmd(&["user", "device-password", "monitor"]));
    let prefix = "user 'monitor' OpenRosa device password: ";
    assert!(first.starts_with(prefix), "{first}");
    let pw1 = first.trim().trim_start_matches(prefix).to_string();
    assert_eq!(pw1.len(), 20, "{first}");
    let second = ok(&cmd(&["user", "device-password", "monitor"]));
    assert_ne!(second.trim().trim_start_matches(prefix), pw1, "a new one");
    let out = cmd(&["user", "device-password", "nobody"]);
    assert!(!out.status.success());
    // Only sealed HA1 values are stored: the password is nowhere in the data directory.
    for entry in std::fs::read_dir(d).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap_or_default();
        assert!(!bytes.windows(pw1.len()).any(|w| w == pw1.as_bytes()));
    }
}
