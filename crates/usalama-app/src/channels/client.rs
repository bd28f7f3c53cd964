//! The client's network details (address and user agent) of a report. By default no
//! channel keeps them; `[privacy.client_address]` may ask a channel to keep them sealed in
//! the vault with the report, readable only by roles that may read personal data (each
//! read audited). They are never logged, and never stored in clear.

use usalama_domain::Channel;

/// The network details a report arrived with, as the web layer saw them.
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClientInfo {
    /// The client's IP address (the socket's peer, or the trusted proxy's header).
    pub address: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
}

impl std::fmt::Debug for ClientInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Network details are personal data: never in debug output or logs.
        f.write_str("ClientInfo(***)")
    }
}

impl ClientInfo {
    /// Cut to sane lengths (an address of at most 64 characters, a user agent of 512),
    /// control characters dropped; `None` when nothing is left.
    pub(crate) fn bounded(&self) -> Option<ClientInfo> {
        let clean = |v: &Option<String>, max: usize| {
            v.as_deref()
                .map(|s| {
                    s.chars()
                        .filter(|c| !c.is_control())
                        .take(max)
                        .collect::<String>()
                })
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let c = ClientInfo {
            address: clean(&self.address, 64),
            user_agent: clean(&self.user_agent, 512),
        };
        (c.address.is_some() || c.user_agent.is_some()).then_some(c)
    }
}

/// What a channel keeps of its clients' network details.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeepClient {
    /// Nothing (the default).
    #[default]
    None,
    /// The address and user agent, sealed with the report.
    Sealed,
}

impl KeepClient {
    /// Reads `none` or `sealed`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "none" => Some(Self::None),
            "sealed" => Some(Self::Sealed),
            _ => None,
        }
    }
}

/// `[privacy.client_address]`: what each channel keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientAddressPolicy {
    /// The web form (`/report`).
    pub web_form: KeepClient,
    /// The JSON API (`/api/v1/reports*`).
    pub api: KeepClient,
    /// The SMS gateway webhook (the gateway's address, not the phone's).
    pub sms: KeepClient,
    /// OpenRosa submissions.
    pub openrosa: KeepClient,
}

impl ClientAddressPolicy {
    /// What `channel` keeps.
    pub fn for_channel(&self, channel: Channel) -> KeepClient {
        match channel {
            Channel::WebForm => self.web_form,
            Channel::Api => self.api,
            Channel::Sms => self.sms,
            Channel::OpenRosa => self.openrosa,
            Channel::Import => KeepClient::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_cuts_and_drops_empty_values() {
        let c = ClientInfo {
            address: Some(" 192.0.2.7 ".into()),
            user_agent: Some(format!("UA\u{7}{}", "x".repeat(600))),
        };
        let b = c.bounded().unwrap();
        assert_eq!(b.address.as_deref(), Some("192.0.2.7"));
        assert_eq!(b.user_agent.as_ref().unwrap().chars().count(), 512);
        assert!(!b.user_agent.unwrap().contains('\u{7}'));
        assert!(ClientInfo::default().bounded().is_none());
        assert_eq!(format!("{c:?}"), "ClientInfo(***)");
        assert_eq!(KeepClient::parse("sealed"), Some(KeepClient::Sealed));
        assert_eq!(KeepClient::parse("clear"), None);
        let p = ClientAddressPolicy {
            sms: KeepClient::Sealed,
            ..Default::default()
        };
        assert_eq!(p.for_channel(Channel::Sms), KeepClient::Sealed);
        assert_eq!(p.for_channel(Channel::WebForm), KeepClient::None);
    }
}
