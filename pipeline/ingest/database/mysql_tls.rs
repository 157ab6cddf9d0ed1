//! MySQL's and MariaDB's TLS settings in the MySQL client's own words (`ssl-mode`, `ssl-ca`),
//! turned into the driver's TLS options.
//!
//! The driver refuses query parameters it does not know, so both keys are taken out of the URL
//! here and the rest goes to the driver untouched; the driver's own TLS parameters are refused,
//! so that one vocabulary decides.
//!
//! In: the connection URL. Out: the rest of the URL and [`MyTls`] (the mode and the CA
//! certificates), from which [`MyTls::ssl_opts`] makes the driver's options. Messages name the
//! keys and the CA file, never the URL.

use std::path::PathBuf;

use mysql::SslOpts;

use super::tls::{Check, Roots};

/// MySQL's `--ssl-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Disabled,
    /// TLS when the server offers it, without checks; plain text when it offers none.
    Preferred,
    /// TLS without checks; no connection when the server offers none.
    Required,
    VerifyCa,
    VerifyIdentity,
}

/// The TLS a MySQL or MariaDB connection asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MyTls {
    pub mode: Mode,
    pub roots: Roots,
    /// The mode as the URL says it (`ssl-mode=VERIFY_IDENTITY`), for messages.
    pub named: String,
}

/// The driver's own TLS parameters, refused in favour of `ssl-mode` and `ssl-ca`.
const DRIVER_KEYS: [&str; 7] = [
    "require_ssl",
    "verify_ca",
    "verify_identity",
    "root_cert_path",
    "danger_skip_domain_validation",
    "danger_accept_invalid_certs",
    "built_in_roots",
];

/// Client-certificate parameters, which itvalue does not send.
const CLIENT_KEYS: [&str; 5] = [
    "ssl-cert",
    "ssl-key",
    "cert_chain_path",
    "priv_key_path",
    "pkcs12_path",
];

/// Takes `ssl-mode` and `ssl-ca` (also spelled with `_`, as in option files) out of the URL's
/// query and says what they ask for.
///
/// # Errors
///
/// A message naming the key and the rule: an `ssl-mode` that is not one of MySQL's, or one of
/// the driver's own TLS parameters.
pub(super) fn split(url: &str) -> Result<(String, MyTls), String> {
    let after_credentials = url.find('@').map_or(0, |at| at + 1);
    let (base, query) = match url[after_credentials..].find('?') {
        Some(q) => url.split_at(after_credentials + q),
        None => (url, ""),
    };
    let mut mode = None;
    let mut ca = None;
    let mut kept = Vec::new();
    for pair in query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8_lossy()
            .into_owned();
        let spelled = key.replace('_', "-").to_ascii_lowercase();
        match spelled.as_str() {
            "ssl-mode" => mode = Some(value),
            "ssl-ca" => ca = Some(value),
            _ if DRIVER_KEYS.contains(&key) => {
                return Err(format!(
                    "{key} is not read: say ssl-mode=DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY, and ssl-ca=/path/ca.pem"
                ));
            }
            _ if CLIENT_KEYS.contains(&key) || CLIENT_KEYS.contains(&spelled.as_str()) => {
                return Err(format!(
                    "{key} is not supported: itvalue does not present client certificates"
                ));
            }
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, resolve(mode.as_deref(), ca)?))
}

/// MySQL's rules: PREFERRED by default, VERIFY_CA when only a CA file is given; the verifying
/// modes check against the CA file, else the system's trust store.
fn resolve(mode: Option<&str>, ca: Option<String>) -> Result<MyTls, String> {
    let mode = match mode.map(str::to_ascii_uppercase).as_deref() {
        None if ca.is_some() => Mode::VerifyCa,
        None => Mode::Preferred,
        Some("DISABLED") => Mode::Disabled,
        Some("PREFERRED") => Mode::Preferred,
        Some("REQUIRED") => Mode::Required,
        Some("VERIFY_CA") => Mode::VerifyCa,
        Some("VERIFY_IDENTITY") => Mode::VerifyIdentity,
        Some(other) => {
            return Err(format!(
                "ssl-mode={other} is not one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY"
            ));
        }
    };
    let named = format!(
        "ssl-mode={}",
        match mode {
            Mode::Disabled => "DISABLED",
            Mode::Preferred => "PREFERRED",
            Mode::Required => "REQUIRED",
            Mode::VerifyCa => "VERIFY_CA",
            Mode::VerifyIdentity => "VERIFY_IDENTITY",
        }
    );
    Ok(MyTls {
        mode,
        roots: ca.map_or(Roots::System, |path| Roots::File(PathBuf::from(path))),
        named,
    })
}

impl MyTls {
    /// What is checked of the server's certificate.
    pub fn check(&self) -> Check {
        match self.mode {
            Mode::Disabled | Mode::Preferred | Mode::Required => Check::Nothing,
            Mode::VerifyCa => Check::Chain,
            Mode::VerifyIdentity => Check::ChainAndHost,
        }
    }

    /// The driver's TLS options; `None` for plain text. `ca_file` is the PEM file of the trusted
    /// CA certificates for the verifying modes (the configured one, or the system's trust store
    /// written out).
    pub fn ssl_opts(&self, ca_file: Option<PathBuf>) -> Option<SslOpts> {
        let opts = SslOpts::default();
        match self.check() {
            _ if self.mode == Mode::Disabled => None,
            Check::Nothing => Some(opts.with_danger_accept_invalid_certs(true)),
            Check::Chain => Some(
                opts.with_root_cert_path(ca_file)
                    .with_danger_skip_domain_validation(true),
            ),
            Check::ChainAndHost => Some(opts.with_root_cert_path(ca_file)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssl_keys_are_cut_from_the_query_and_the_rest_is_passed_on_as_written() {
        let (rest, tls) = split(
            "mysql://itvalue:p%40ss@db.example.com:3306/desk?ssl-mode=verify_identity&prefer_socket=false&ssl_ca=%2Fetc%2Fca.pem",
        )
        .unwrap();
        assert_eq!(
            rest,
            "mysql://itvalue:p%40ss@db.example.com:3306/desk?prefer_socket=false"
        );
        assert_eq!(
            tls,
            MyTls {
                mode: Mode::VerifyIdentity,
                roots: Roots::File(PathBuf::from("/etc/ca.pem")),
                named: "ssl-mode=VERIFY_IDENTITY".into(),
            }
        );
    }

    #[test]
    fn mysql_defaults_apply() {
        let (rest, tls) = split("mysql://root@127.0.0.1:3306/test").unwrap();
        assert_eq!(rest, "mysql://root@127.0.0.1:3306/test");
        assert_eq!((tls.mode, tls.roots), (Mode::Preferred, Roots::System));
        // A CA file alone asks for the chain to be checked, as with the mysql client.
        let (_, tls) = split("mysql://h/db?ssl-ca=/ca.pem").unwrap();
        assert_eq!(tls.mode, Mode::VerifyCa);
        assert_eq!(
            split("mysql://h/db?ssl-mode=STRICT").unwrap_err(),
            "ssl-mode=STRICT is not one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY"
        );
        assert_eq!(
            split("mysql://h/db?require_ssl=true").unwrap_err(),
            "require_ssl is not read: say ssl-mode=DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY, and ssl-ca=/path/ca.pem"
        );
        assert_eq!(
            split("mysql://h/db?ssl-cert=/c.pem").unwrap_err(),
            "ssl-cert is not supported: itvalue does not present client certificates"
        );
    }
}
