//! TLS for database connections, shared by both kinds: which checks a connection makes of the
//! server's certificate, the CA certificates it checks against (a CA file, or the system's trust
//! store), the rustls client configuration that makes those checks, and the words that say which
//! check failed.
//!
//! In: a [`Policy`], read from the connection string's own TLS keys (PostgreSQL's `sslmode` and
//! `sslrootcert`, MySQL's `ssl-mode` and `ssl-ca`), and for a failed handshake the rustls error
//! and the host connected to. Out: a rustls [`ClientConfig`], and messages that name the failed
//! check, the host and the CA file, never the connection string. Everything is pure Rust (rustls
//! with the `ring` provider), so no system TLS library is needed to build or run.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

/// A connection's TLS settings (of either kind) and the host its certificate must name, kept
/// together for the messages of a failed handshake.
pub(super) struct TlsContext<T> {
    pub tls: T,
    pub host: String,
}

impl<T> std::ops::Deref for TlsContext<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.tls
    }
}

/// What is checked of the server's certificate once the connection is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Check {
    /// Nothing: the connection is encrypted, but a server in the middle would not be noticed
    /// (PostgreSQL's `prefer` and `require`, MySQL's `PREFERRED` and `REQUIRED`).
    Nothing,
    /// The certificate is signed by a trusted CA, whatever host it names (`verify-ca`,
    /// `VERIFY_CA`).
    Chain,
    /// Signed by a trusted CA and issued for the host connected to (`verify-full`,
    /// `VERIFY_IDENTITY`).
    ChainAndHost,
}

/// Where the trusted CA certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Roots {
    /// A PEM file of one or more CA certificates (`sslrootcert`, `ssl-ca`).
    File(PathBuf),
    /// The system's trust store, as OpenSSL finds it (`SSL_CERT_FILE`, `SSL_CERT_DIR`, or the
    /// distribution's bundle such as `/etc/ssl/certs/ca-certificates.crt`).
    System,
}

impl Roots {
    /// How a message says where the certificate was checked.
    pub fn checked_against(&self) -> String {
        match self {
            Roots::File(path) => format!("checked against {}", path.display()),
            Roots::System => "checked against the system's trust store".to_string(),
        }
    }

    /// The CA certificates, or why there are none to trust.
    pub fn load(&self) -> Result<Vec<CertificateDer<'static>>, String> {
        match self {
            Roots::File(path) => ca_file(path),
            Roots::System => {
                let found = rustls_native_certs::load_native_certs();
                if found.certs.is_empty() {
                    return Err(
                        "the system's trust store holds no CA certificate; name a CA file in the connection string"
                            .to_string(),
                    );
                }
                Ok(found.certs)
            }
        }
    }
}

/// The certificates of a PEM CA file.
fn ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let text = std::fs::read(path)
        .map_err(|e| format!("the CA file {} cannot be read: {e}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the CA file {} is not PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "the CA file {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(certs)
}

/// What a connection asks of TLS once it has decided to use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Policy {
    pub check: Check,
    pub roots: Roots,
}

/// The crypto provider of every TLS connection itvalue makes: rustls's own `ring` back end.
pub(super) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Makes `ring` the process's default provider, which the MySQL driver's TLS code asks for.
pub(super) fn install_default_provider() {
    // Fails only when a provider is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The rustls configuration that makes the checks of `policy`.
///
/// # Errors
///
/// The message of [`Roots::load`] when the CA certificates cannot be had.
pub(super) fn client_config(policy: &Policy) -> Result<Arc<ClientConfig>, String> {
    let provider = provider();
    let chain = match policy.check {
        Check::Nothing => None,
        Check::Chain | Check::ChainAndHost => {
            let mut store = RootCertStore::empty();
            let (_, unusable) = store.add_parsable_certificates(policy.roots.load()?);
            if store.is_empty() {
                return Err(format!(
                    "no usable CA certificate ({}: {unusable} could not be parsed)",
                    policy.roots.checked_against()
                ));
            }
            Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                    .build()
                    .map_err(|e| format!("the CA certificates cannot be used: {e}"))?,
            )
        }
    };
    let verifier = Verifier {
        check: policy.check,
        chain,
        algorithms: provider.signature_verification_algorithms,
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS cannot be set up: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Checks the server's certificate as far as the mode asks; the handshake's own signatures are
/// always checked against the key of the certificate presented.
#[derive(Debug)]
struct Verifier {
    check: Check,
    chain: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        let verdict =
            chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        match verdict {
            // The chain is checked before the name, so a wrong name means the chain was good.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.check == Check::Chain => Ok(ServerCertVerified::assertion()),
            verdict => verdict,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Finds the rustls error among the causes of a failed connection, if TLS is what failed.
pub(super) fn rustls_cause<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(found) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// Says which check of a failed handshake to `host` failed; `checked_against` says where the
/// CA certificates came from ([`Roots::checked_against`]).
pub(super) fn explain(error: &rustls::Error, host: &str, checked_against: &str) -> String {
    let certificate = match error {
        rustls::Error::InvalidCertificate(c) => c,
        other => return format!("the TLS handshake with {host} failed: {other}"),
    };
    match certificate {
        CertificateError::UnknownIssuer => {
            format!("the server's certificate is not signed by a trusted CA ({checked_against})")
        }
        CertificateError::NotValidForNameContext { presented, .. } if !presented.is_empty() => {
            format!(
                "the server's certificate is for {}, not {host}",
                presented
                    .iter()
                    .map(|n| presented_name(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("the server's certificate is not for {host}")
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "the server's certificate has expired".to_string()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "the server's certificate is not valid yet".to_string()
        }
        CertificateError::Revoked => "the server's certificate has been revoked".to_string(),
        other => format!("the server's certificate was refused: {other:?}"),
    }
}

/// `DnsName("db.example.com")` or `IpAddress(10.0.0.1)`, as webpki lists a certificate's names,
/// as the bare name.
fn presented_name(name: &str) -> &str {
    name.strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
        .or_else(|| {
            name.strip_prefix("IpAddress(")
                .and_then(|n| n.strip_suffix(')'))
        })
        .unwrap_or(name)
}

/// The `tls-server-end-point` channel binding of RFC 5929: the server certificate's hash, made
/// with the hash of its signature algorithm (SHA-256 for MD5 and SHA-1). `None` for algorithms
/// without one of those hashes (Ed25519, RSA-PSS), where SCRAM then runs without binding.
pub(super) fn server_end_point(certificate: &[u8]) -> Option<Vec<u8>> {
    use sha2::Digest;
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm SEQUENCE { OID, ... }, ... }
    let (_, body, _) = der_element(certificate)?;
    let (_, _, rest) = der_element(body)?;
    let (_, algorithm, _) = der_element(rest)?;
    let (tag, oid, _) = der_element(algorithm)?;
    if tag != 0x06 {
        return None;
    }
    // The signature OIDs with SHA-384 and SHA-512 (RSA PKCS#1 and ECDSA); the other RSA PKCS#1
    // and ECDSA ones use MD5, SHA-1, SHA-224 or SHA-256, all bound with SHA-256.
    const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
    const ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04];
    let hash = match oid {
        [rest @ .., last] if rest == RSA => match *last {
            0x0c => 384,
            0x0d => 512,
            0x04 | 0x05 | 0x0b | 0x0e => 256,
            _ => return None,
        },
        [rest @ .., 0x03, last] if rest == ECDSA => match *last {
            0x03 => 384,
            0x04 => 512,
            0x01 | 0x02 => 256,
            _ => return None,
        },
        [rest @ .., 0x01] if rest == ECDSA => 256,
        _ => return None,
    };
    Some(match hash {
        384 => sha2::Sha384::digest(certificate).to_vec(),
        512 => sha2::Sha512::digest(certificate).to_vec(),
        _ => sha2::Sha256::digest(certificate).to_vec(),
    })
}

/// One DER element at the start of `input`: its tag, its contents and what follows it.
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |n, &b| (n << 8) | usize::from(b));
        (length, &rest[count..])
    };
    if rest.len() < length {
        return None;
    }
    let (contents, after) = rest.split_at(length);
    Some((tag, contents, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_host_names_what_the_certificate_is_for() {
        let error = rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("127.0.0.2").unwrap(),
            presented: vec![
                "DnsName(\"db.example.test\")".to_string(),
                "IpAddress(127.0.0.1)".to_string(),
            ],
        });
        assert_eq!(
            explain(&error, "127.0.0.2", &Roots::System.checked_against()),
            "the server's certificate is for db.example.test, 127.0.0.1, not 127.0.0.2"
        );
        assert_eq!(
            explain(
                &rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
                "db",
                &Roots::File(PathBuf::from("/etc/itvalue/ca.pem")).checked_against()
            ),
            "the server's certificate is not signed by a trusted CA (checked against /etc/itvalue/ca.pem)"
        );
    }

    #[test]
    fn the_channel_binding_hash_follows_the_certificates_signature_algorithm() {
        // A certificate's outer shape: SEQUENCE { SEQUENCE {tbs}, SEQUENCE { OID }, BIT STRING }.
        let certificate = |oid: &[u8]| {
            let mut algorithm = vec![0x06, oid.len() as u8];
            algorithm.extend_from_slice(oid);
            let mut body = vec![0x30, 0x01, 0x00, 0x30, algorithm.len() as u8];
            body.extend_from_slice(&algorithm);
            body.extend_from_slice(&[0x03, 0x01, 0x00]);
            let mut der = vec![0x30, body.len() as u8];
            der.extend_from_slice(&body);
            der
        };
        let ecdsa_sha256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
        let rsa_sha384 = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
        let ed25519 = [0x2b, 0x65, 0x70];
        assert_eq!(
            server_end_point(&certificate(&ecdsa_sha256)).map(|h| h.len()),
            Some(32)
        );
        assert_eq!(
            server_end_point(&certificate(&rsa_sha384)).map(|h| h.len()),
            Some(48)
        );
        assert_eq!(server_end_point(&certificate(&ed25519)), None);
        assert_eq!(server_end_point(&[0x30, 0x05, 0x00]), None);
    }
}
