//! Helpers shared by the binary's tests: running `usalama`, starting a demo server on a
//! free port, and plain HTTP requests on loopback.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `usalama` binary with a clean environment.
pub fn usalama() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_usalama"));
    c.env_remove("USALAMA_DATABASE_URL")
        .env_remove("USALAMA_DATA_DIR")
        .env_remove("USALAMA_CONFIG")
        .env_remove("USALAMA_KEY_FILE")
        .env_remove("USALAMA_MASTER_KEY_FILE")
        .env("USALAMA_LOG", "warn");
    c
}

/// Runs `usalama` with `args` and waits.
pub fn run(args: &[&str]) -> Output {
    usalama().args(args).output().expect("run usalama")
}

/// A running demo server, stopped on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The admin API token it printed.
    pub token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `usalama demo` on a free port and waits for it to serve.
pub fn start_demo(extra: &[&str]) -> Server {
    let mut child = usalama()
        .args(["demo", "--bind", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut token = String::new();
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(t) = line.strip_prefix("API token: ") {
            token = t.trim().to_string();
        }
        if let Some(rest) = line.strip_prefix("Serving on ") {
            let base = rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches('/')
                .to_string();
            std::thread::spawn(move || for _ in lines {});
            assert!(!token.is_empty(), "the demo prints 'API token: <token>'");
            return Server { child, base, token };
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the demo did not start serving");
}

/// A plain HTTP/1.1 GET on loopback, returning status and body.
pub fn http_get(base: &str, path: &str, token: Option<&str>) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `child` (a `usalama serve`) listens on `port`; panics if it exits first or
/// does not listen within `within`.
pub fn wait_listening(child: &mut Child, port: u16, within: Duration) {
    let deadline = Instant::now() + within;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(st) = child.try_wait().unwrap() {
            panic!("usalama serve exited with {st}");
        }
        assert!(Instant::now() < deadline, "usalama serve did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A fresh (emptied) schema `name` in the PostgreSQL database at `url`, and the URL that
/// makes it the connection's search path.
pub fn fresh_pg_schema(url: &str, name: &str) -> String {
    let mut admin = postgres::Client::connect(url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
        ))
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{name}")
}
