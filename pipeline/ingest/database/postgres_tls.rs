//! PostgreSQL's TLS settings in libpq's own words, and the TLS connector that carries them out.
//!
//! The driver's configuration knows `sslmode` disable, prefer and require only, and no
//! `sslrootcert`; so both keys are taken out of the connection string here (URL and
//! keyword/value forms alike), the rest goes to the driver untouched, and the driver is told to
//! ask for TLS while the connector decides what is checked of the certificate.
//!
//! In: the connection string. Out: the rest of the string, and [`PgTls`]: the driver's mode, the
//! checks and CA certificates, and a connector for `postgres::Config::connect`. Messages name the
//! keys and the CA file, never the connection string.

use std::future::Future;
use std::ops::Range;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use postgres::Socket;
use postgres::config::SslMode;
use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::tls::{self, Check, Policy, Roots};

/// The TLS a PostgreSQL connection asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PgTls {
    /// What the driver is told: disable, prefer, or require for every mode that needs TLS.
    pub mode: SslMode,
    pub policy: Policy,
    /// The mode as the connection string says it (`sslmode=verify-full`), for messages.
    pub named: String,
}

/// Takes `sslmode` and `sslrootcert` out of `connection` and says what they ask for; the rest
/// of the string is returned for the driver. `home_root` is libpq's default CA file,
/// `~/.postgresql/root.crt`, when it exists.
///
/// # Errors
///
/// A message naming the key and the rule (the string itself is never quoted): an `sslmode` that
/// is not one of libpq's, or `sslrootcert=system` with a mode weaker than verify-full.
pub(super) fn split(
    connection: &str,
    home_root: Option<PathBuf>,
) -> Result<Option<(String, PgTls)>, String> {
    let Some((rest, settings)) = take_keys(connection) else {
        return Ok(None);
    };
    Ok(Some((rest, resolve(&settings, home_root)?)))
}

/// The TLS keys found in a connection string.
#[derive(Debug, Default, PartialEq, Eq)]
struct Settings {
    sslmode: Option<String>,
    sslrootcert: Option<String>,
    /// Client-certificate keys, which itvalue does not send.
    unsupported: Vec<String>,
}

const UNSUPPORTED: [&str; 5] = ["sslcert", "sslkey", "sslpassword", "sslcrl", "sslcrldir"];

/// Splits the TLS keys off; `None` when the string cannot be read (the driver's own parse then
/// reports it without quoting it).
fn take_keys(connection: &str) -> Option<(String, Settings)> {
    let url = ["postgres://", "postgresql://"]
        .iter()
        .any(|p| connection.starts_with(p));
    let mut settings = Settings::default();
    let mut keep = |key: &str, value: String| match key {
        "sslmode" => {
            settings.sslmode = Some(value);
            false
        }
        "sslrootcert" => {
            settings.sslrootcert = Some(value);
            false
        }
        k if UNSUPPORTED.contains(&k) => {
            settings.unsupported.push(k.to_string());
            false
        }
        _ => true,
    };
    let rest = if url {
        // As the driver reads a URL: the credentials end at the first `@`, the query starts at
        // the first `?` after them.
        let after_credentials = connection.find('@').map_or(0, |at| at + 1);
        let Some(question) = connection[after_credentials..].find('?') else {
            return Some((connection.to_string(), settings));
        };
        let (base, query) = connection.split_at(after_credentials + question);
        let mut kept = Vec::new();
        for pair in query[1..].split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .ok()?
                .into_owned();
            if keep(key, value) {
                kept.push(pair);
            }
        }
        if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        }
    } else {
        let mut rest = String::new();
        let mut last = 0;
        for (key, value, span) in keyword_pairs(connection)? {
            if !keep(&key, value) {
                rest.push_str(&connection[last..span.start]);
                rest.push(' ');
                last = span.end;
            }
        }
        rest.push_str(&connection[last..]);
        rest
    };
    Some((rest, settings))
}

/// The `key = value` pairs of a libpq keyword/value string, with the span of each, so that some
/// can be cut out and the others passed on as written. Values may be single-quoted; a backslash
/// escapes the next character. `None` when the string is not of that form.
fn keyword_pairs(s: &str) -> Option<Vec<(String, String, Range<usize>)>> {
    let b = s.as_bytes();
    let space = |i: usize| i < b.len() && b[i].is_ascii_whitespace();
    let mut pairs = Vec::new();
    let mut i = 0;
    loop {
        while space(i) {
            i += 1;
        }
        if i == b.len() {
            return Some(pairs);
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' {
            i += 1;
        }
        let key = s[start..i].to_string();
        while space(i) {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            return None;
        }
        i += 1;
        while space(i) {
            i += 1;
        }
        let mut value = Vec::new();
        let quoted = b.get(i) == Some(&b'\'');
        if quoted {
            i += 1;
        }
        loop {
            match b.get(i) {
                None if quoted => return None,
                None => break,
                Some(b'\'') if quoted => {
                    i += 1;
                    break;
                }
                Some(c) if !quoted && c.is_ascii_whitespace() => break,
                Some(b'\\') => {
                    value.push(*b.get(i + 1)?);
                    i += 2;
                }
                Some(c) => {
                    value.push(*c);
                    i += 1;
                }
            }
        }
        pairs.push((key, String::from_utf8(value).ok()?, start..i));
    }
}

/// libpq's rules: prefer by default; `sslrootcert=system` means the system's trust store and
/// verify-full; without `sslrootcert`, `~/.postgresql/root.crt` if it exists, else the system's
/// trust store; `require` with a CA file checks the chain like verify-ca.
fn resolve(settings: &Settings, home_root: Option<PathBuf>) -> Result<PgTls, String> {
    if let Some(key) = settings.unsupported.first() {
        return Err(format!(
            "{key} is not supported: itvalue does not present client certificates"
        ));
    }
    let mode = settings.sslmode.as_deref();
    let system = settings.sslrootcert.as_deref() == Some("system");
    let mode = match (mode, system) {
        (None, true) | (Some("verify-full"), _) => "verify-full",
        (Some(weaker), true) => {
            return Err(format!(
                "sslrootcert=system needs sslmode=verify-full, not sslmode={weaker} (as in libpq)"
            ));
        }
        (None, false) => "prefer",
        (Some(m @ ("disable" | "prefer" | "require" | "verify-ca")), false) => m,
        (Some("allow"), false) => {
            return Err(
                "sslmode=allow is not supported: use prefer, require, verify-ca or verify-full (or disable)"
                    .to_string(),
            );
        }
        (Some(other), false) => {
            return Err(format!(
                "sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"
            ));
        }
    };
    let roots = match settings.sslrootcert.as_deref() {
        Some("system") => Roots::System,
        Some(path) => Roots::File(PathBuf::from(path)),
        None => home_root.map_or(Roots::System, Roots::File),
    };
    let check = match mode {
        "verify-full" => Check::ChainAndHost,
        "verify-ca" => Check::Chain,
        "require" if matches!(roots, Roots::File(_)) => Check::Chain,
        _ => Check::Nothing,
    };
    let driver_mode = match mode {
        "disable" => SslMode::Disable,
        "prefer" => SslMode::Prefer,
        _ => SslMode::Require,
    };
    Ok(PgTls {
        mode: driver_mode,
        policy: Policy { check, roots },
        named: format!("sslmode={mode}"),
    })
}

/// libpq's default CA file, when it exists.
pub(super) fn home_root() -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os("HOME")?).join(".postgresql/root.crt");
    path.is_file().then_some(path)
}

/// Makes one TLS connection per server the driver connects to.
#[derive(Clone)]
pub(super) struct Connector {
    config: Arc<ClientConfig>,
}

impl Connector {
    /// # Errors
    ///
    /// When the CA certificates the policy names cannot be read or used.
    pub fn new(policy: &Policy) -> Result<Connector, String> {
        Ok(Connector {
            config: tls::client_config(policy)?,
        })
    }
}

impl MakeTlsConnect<Socket> for Connector {
    type Stream = Stream;
    type TlsConnect = Connect;
    type Error = rustls::pki_types::InvalidDnsNameError;

    fn make_tls_connect(&mut self, host: &str) -> Result<Connect, Self::Error> {
        Ok(Connect {
            config: self.config.clone(),
            name: ServerName::try_from(host)?.to_owned(),
        })
    }
}

/// The handshake with one server, checked as the host name the connection string gives.
pub(super) struct Connect {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl TlsConnect<Socket> for Connect {
    type Stream = Stream;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<Stream>> + Send>>;

    fn connect(self, socket: Socket) -> Self::Future {
        let connector = tokio_rustls::TlsConnector::from(self.config);
        Box::pin(async move { connector.connect(self.name, socket).await.map(Stream) })
    }
}

/// An encrypted connection to the server.
pub(super) struct Stream(tokio_rustls::client::TlsStream<Socket>);

impl TlsStream for Stream {
    fn channel_binding(&self) -> ChannelBinding {
        let (_, session) = self.0.get_ref();
        session
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|certificate| tls::server_end_point(certificate.as_ref()))
            .map_or_else(ChannelBinding::none, ChannelBinding::tls_server_end_point)
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_ok(connection: &str, home: Option<&str>) -> (String, PgTls) {
        split(connection, home.map(PathBuf::from)).unwrap().unwrap()
    }

    #[test]
    fn tls_keys_are_cut_from_a_url_and_the_rest_is_passed_on_as_written() {
        let (rest, tls) = split_ok(
            "postgresql://itvalue:pa%3Fss@db.example.com:5432/finance?application_name=x&sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20dir%2Fca.pem",
            None,
        );
        assert_eq!(
            rest,
            "postgresql://itvalue:pa%3Fss@db.example.com:5432/finance?application_name=x"
        );
        assert_eq!(
            tls,
            PgTls {
                mode: SslMode::Require,
                policy: Policy {
                    check: Check::ChainAndHost,
                    roots: Roots::File(PathBuf::from("/etc/ca dir/ca.pem")),
                },
                named: "sslmode=verify-full".into(),
            }
        );
        let (rest, tls) = split_ok("postgres://u@h/db?sslmode=verify-ca", None);
        assert_eq!(rest, "postgres://u@h/db");
        assert_eq!(
            (tls.policy.check, tls.policy.roots),
            (Check::Chain, Roots::System)
        );
    }

    #[test]
    fn tls_keys_are_cut_from_a_keyword_string_with_quoted_values() {
        let (rest, tls) = split_ok(
            r"host=db user=itvalue password='it\'s sslmode=require' sslmode = require sslrootcert='/etc/my ca.pem' dbname=x",
            None,
        );
        // Each pair cut out leaves a space, beside the spaces that stood around it.
        assert_eq!(
            rest,
            r"host=db user=itvalue password='it\'s sslmode=require'     dbname=x"
        );
        assert_eq!(
            (tls.mode, tls.policy.check, tls.named.as_str()),
            (SslMode::Require, Check::Chain, "sslmode=require")
        );
        assert_eq!(
            tls.policy.roots,
            Roots::File(PathBuf::from("/etc/my ca.pem"))
        );
    }

    #[test]
    fn libpq_defaults_and_rules_apply() {
        // No sslmode: prefer, nothing checked, even with a CA file at hand.
        let (_, tls) = split_ok("host=db", Some("/root/.postgresql/root.crt"));
        assert_eq!(
            (tls.mode, tls.policy.check),
            (SslMode::Prefer, Check::Nothing)
        );
        // require with ~/.postgresql/root.crt present checks the chain, as libpq does.
        let (_, tls) = split_ok(
            "host=db sslmode=require",
            Some("/root/.postgresql/root.crt"),
        );
        assert_eq!(tls.policy.check, Check::Chain);
        let (_, tls) = split_ok("host=db sslmode=require", None);
        assert_eq!(tls.policy.check, Check::Nothing);
        // sslrootcert=system means verify-full, and refuses anything weaker.
        let (_, tls) = split_ok("postgres://h/db?sslrootcert=system", None);
        assert_eq!(
            (tls.policy.check, tls.policy.roots, tls.named.as_str()),
            (Check::ChainAndHost, Roots::System, "sslmode=verify-full")
        );
        assert_eq!(
            split("host=h sslmode=require sslrootcert=system", None).unwrap_err(),
            "sslrootcert=system needs sslmode=verify-full, not sslmode=require (as in libpq)"
        );
        assert_eq!(
            split("host=h sslmode=allow", None).unwrap_err(),
            "sslmode=allow is not supported: use prefer, require, verify-ca or verify-full (or disable)"
        );
        assert_eq!(
            split("host=h sslcert=/c.pem sslkey=/k.pem", None).unwrap_err(),
            "sslcert is not supported: itvalue does not present client certificates"
        );
        let (_, tls) = split_ok("host=h sslmode=disable", None);
        assert_eq!(tls.mode, SslMode::Disable);
    }

    #[test]
    fn a_keyword_string_that_cannot_be_read_is_not_split() {
        assert_eq!(split("host=db password='unterminated", None), Ok(None));
        assert_eq!(split("just words", None), Ok(None));
    }
}
