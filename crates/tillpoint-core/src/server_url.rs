//! The address of the Tillpoint server a till talks to. Tokens and passwords travel to it,
//! so anything but HTTPS is refused — except on the loopback interface, where a developer or
//! a test runs the server on the same machine and nothing crosses a network.

use std::fmt;
use std::net::IpAddr;

use url::{Host, Url};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl(Url);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerUrlError {
    #[error("{input:?} is not a URL ({reason}); write it like https://tillpoint.example.com")]
    NotAUrl { input: String, reason: String },
    #[error("{input:?} must use https (http is only allowed for a server on this machine: 127.0.0.1, ::1 or localhost)")]
    NotHttps { input: String },
    #[error("{input:?} must not carry a user name, password, query or fragment; give only the server's address")]
    ExtraParts { input: String },
}

impl ServerUrl {
    pub fn parse(input: &str) -> Result<Self, ServerUrlError> {
        let trimmed = input.trim();
        let url = Url::parse(trimmed).map_err(|e| ServerUrlError::NotAUrl {
            input: input.to_owned(),
            reason: e.to_string(),
        })?;
        let Some(host) = url.host() else {
            return Err(ServerUrlError::NotAUrl {
                input: input.to_owned(),
                reason: "it names no host".into(),
            });
        };
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => {
                return Err(ServerUrlError::NotHttps {
                    input: input.to_owned(),
                })
            }
            other => {
                return Err(ServerUrlError::NotAUrl {
                    input: input.to_owned(),
                    reason: format!("scheme {other:?} is not http or https"),
                })
            }
        }
        if !url.username().is_empty()
            || url.password().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(ServerUrlError::ExtraParts {
                input: input.to_owned(),
            });
        }
        Ok(Self(url))
    }

    /// `path` joined under the server's base, e.g. `endpoint("healthz")`.
    pub fn endpoint(&self, path: &str) -> Url {
        let mut base = self.0.clone();
        if !base.path().ends_with('/') {
            let with_slash = format!("{}/", base.path());
            base.set_path(&with_slash);
        }
        base.join(path.trim_start_matches('/'))
            .expect("a relative path joins onto an http(s) base")
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_on_loopback_only() {
        for ok in [
            "https://pos.example.com",
            "https://pos.example.com:8443/tillpoint/",
            "http://127.0.0.1:8787",
            "http://127.8.9.1:8787",
            "http://[::1]:8787",
            "http://localhost:8787",
        ] {
            assert!(ServerUrl::parse(ok).is_ok(), "{ok} should be accepted");
        }
        for plain in [
            "http://pos.example.com",
            "http://192.168.1.10:8787",
            "http://10.0.0.1",
        ] {
            assert!(
                matches!(
                    ServerUrl::parse(plain),
                    Err(ServerUrlError::NotHttps { .. })
                ),
                "{plain} must be refused"
            );
        }
    }

    #[test]
    fn rejects_what_is_not_a_server_address() {
        for bad in [
            "",
            "pos.example.com",
            "ftp://pos.example.com",
            "https://",
            "not a url",
        ] {
            assert!(
                matches!(ServerUrl::parse(bad), Err(ServerUrlError::NotAUrl { .. })),
                "{bad:?} must be refused as not a URL"
            );
        }
        for extra in [
            "https://user:pw@pos.example.com",
            "https://pos.example.com/?token=x",
            "https://pos.example.com/#x",
        ] {
            assert!(matches!(
                ServerUrl::parse(extra),
                Err(ServerUrlError::ExtraParts { .. })
            ));
        }
    }

    #[test]
    fn endpoints_join_under_the_base_path() {
        let url = ServerUrl::parse("https://pos.example.com/tillpoint").unwrap();
        assert_eq!(
            url.endpoint("/healthz").as_str(),
            "https://pos.example.com/tillpoint/healthz"
        );
        let root = ServerUrl::parse("http://127.0.0.1:8787").unwrap();
        assert_eq!(
            root.endpoint("api/v1/me").as_str(),
            "http://127.0.0.1:8787/api/v1/me"
        );
    }
}
