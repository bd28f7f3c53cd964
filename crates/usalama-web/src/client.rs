//! The client's network details for the channels configured to keep them
//! (`[privacy.client_address]`): the address of the socket's peer, or, only when
//! `[server] trusted_proxy` names a header, the address the trusted reverse proxy put in
//! it; and the `User-Agent`. The application keeps them sealed or drops them; they are
//! never logged (the request log has method, path, status and time only).

use crate::state::{AppState, WebConfig};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, Extensions, HeaderMap};
use std::net::{IpAddr, SocketAddr};
use usalama_app::ClientInfo;

/// The client's network details, as an extractor (never refuses).
pub struct Client(pub ClientInfo);

/// The address from the trusted proxy's header: the last hop of a list (the one the
/// proxy added; earlier hops are whatever the client sent), only if it is an IP address.
fn proxied(headers: &HeaderMap, name: &str) -> Option<String> {
    let v = headers.get(name)?.to_str().ok()?;
    let last = v.rsplit(',').next()?.trim();
    last.parse::<IpAddr>().ok().map(|ip| ip.to_string())
}

/// The client's details from a request's parts.
pub fn client_info(parts: &Parts, config: &WebConfig) -> ClientInfo {
    client_info_of(&parts.headers, &parts.extensions, config)
}

/// The client's details from a request's headers and extensions.
pub fn client_info_of(
    headers: &HeaderMap,
    extensions: &Extensions,
    config: &WebConfig,
) -> ClientInfo {
    let socket = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let address = match &config.trusted_proxy {
        Some(h) => proxied(headers, h).or(socket),
        None => socket,
    };
    let user_agent = headers
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    ClientInfo {
        address,
        user_agent,
    }
}

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Client(client_info(parts, &state.config)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut b = Request::get("/");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let mut p = b.body(()).unwrap().into_parts().0;
        p.extensions
            .insert(ConnectInfo(SocketAddr::from(([198, 51, 100, 9], 4000))));
        p
    }

    #[test]
    fn the_proxy_header_counts_only_when_configured() {
        let p = parts(&[
            ("x-forwarded-for", "203.0.113.1, 192.0.2.44"),
            ("user-agent", "ODK Collect/v2024.2"),
        ]);
        let plain = client_info(&p, &WebConfig::default());
        assert_eq!(plain.address.as_deref(), Some("198.51.100.9"));
        assert_eq!(plain.user_agent.as_deref(), Some("ODK Collect/v2024.2"));
        let proxied = WebConfig {
            trusted_proxy: Some("x-forwarded-for".into()),
            ..Default::default()
        };
        assert_eq!(
            client_info(&p, &proxied).address.as_deref(),
            Some("192.0.2.44"),
            "the hop the proxy added"
        );
        let junk = parts(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(
            client_info(&junk, &proxied).address.as_deref(),
            Some("198.51.100.9")
        );
    }
}
