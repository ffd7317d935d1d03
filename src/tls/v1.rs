//! X.509 version 1 server certificates, as mosquitto-tls(7)'s recipe makes them (`openssl x509
//! -req` without `-extfile`): rustls/webpki refuse them, OpenSSL-based clients accept them.
//! Accepted here with full verification, and never for less than a version 3 certificate:
//!
//! - signed by a CA certificate of `--cafile`/`--capath` itself (no intermediates: an
//!   intermediate without extensions is no CA to OpenSSL either), with an algorithm webpki
//!   accepts (no SHA-1, no MD5);
//! - that CA is one: version 3 with `basicConstraints CA:TRUE` (and `keyCertSign` when it has
//!   a key usage), or a self-signed version 1 root, as OpenSSL's `check_ca` says; within its
//!   dates;
//! - the certificate within its dates;
//! - the host name equal to its subject's (last) CN, which is all a version 1 certificate
//!   has (no wildcards; a connection by IP address is refused: OpenSSL matches addresses in
//!   subjectAltName only).
//!
//! The handshake's signature is then checked with the certificate's key as rustls checks it.

use rustls::DigitallySignedStruct;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, SubjectPublicKeyInfoDer, UnixTime};
use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::{
    OID_PKCS1_RSASSAPSS, OID_PKCS1_SHA256WITHRSA, OID_PKCS1_SHA384WITHRSA, OID_PKCS1_SHA512WITHRSA,
    OID_SIG_ECDSA_WITH_SHA256, OID_SIG_ECDSA_WITH_SHA384, OID_SIG_ED25519,
};
use x509_parser::x509::X509Version;

/// `der` parsed, when it is an X.509 version 1 certificate.
pub fn parsed(der: &[u8]) -> Option<X509Certificate<'_>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    (cert.version() == X509Version::V1).then_some(cert)
}

/// Verifies the version 1 `end_entity` for `name` against the trusted `cas` at `now`: the
/// trusted CA's subject when it passes, else why not (a sentence).
pub fn verify(
    end_entity: &X509Certificate<'_>,
    cas: &[CertificateDer<'static>],
    name: &ServerName<'_>,
    now: UnixTime,
) -> Result<String, String> {
    let subject = end_entity.subject().to_string();
    let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    within_dates(
        end_entity,
        now,
        &format!("the broker's certificate ({subject})"),
    )?;
    let ServerName::DnsName(host) = name else {
        return Err(format!(
            "the broker's certificate ({subject}) is X.509 version 1: it names its host in its \
             CN only, which is not matched against an IP address; connect by host name (or \
             --tls-server-name NAME)"
        ));
    };
    let host = host.as_ref().trim_end_matches('.');
    let cn = end_entity
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok())
        .last()
        .unwrap_or_default();
    if !cn.eq_ignore_ascii_case(host) {
        return Err(format!(
            "the broker's certificate ({subject}, X.509 version 1: no subjectAltName) is not \
             valid for the name '{host}': its CN is '{cn}'"
        ));
    }
    // The algorithm inside the signed part and the one outside it must agree (RFC 5280 4.1.1.2).
    if end_entity.tbs_certificate.signature != end_entity.signature_algorithm {
        return Err(format!(
            "the broker's certificate ({subject}) names two signature algorithms: malformed"
        ));
    }
    if !strong_algorithm(end_entity) {
        return Err(format!(
            "the broker's certificate ({subject}) is signed with {}, which is not accepted \
             (SHA-256 or better, ECDSA or Ed25519)",
            end_entity.signature_algorithm.algorithm
        ));
    }
    let issuer = end_entity.issuer();
    let mut why = format!(
        "the broker's certificate ({subject}) is X.509 version 1, and signed by no CA \
         certificate of --cafile/--capath (its issuer: {issuer}; an intermediate CA is not \
         accepted for a version 1 certificate)"
    );
    for der in cas {
        let Ok((_, ca)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
            continue;
        };
        if ca.subject().as_raw() != issuer.as_raw() {
            continue;
        }
        if end_entity.verify_signature(Some(ca.public_key())).is_err() {
            why = format!(
                "the broker's certificate ({subject}) does not carry a valid signature of the \
                 CA {issuer} (a tampered certificate, or another CA of the same name)"
            );
            continue;
        }
        let ca_subject = ca.subject().to_string();
        is_ca(&ca).map_err(|why| format!("the CA certificate ({ca_subject}) {why}"))?;
        within_dates(&ca, now, &format!("the CA certificate ({ca_subject})"))?;
        return Ok(ca_subject);
    }
    Err(why)
}

fn within_dates(cert: &X509Certificate<'_>, now: i64, what: &str) -> Result<(), String> {
    let validity = cert.validity();
    if now < validity.not_before.timestamp() {
        return Err(format!("{what} is not valid until {}", validity.not_before));
    }
    if now > validity.not_after.timestamp() {
        return Err(format!("{what} expired on {}", validity.not_after));
    }
    Ok(())
}

/// OpenSSL's `check_ca`: a version 3 certificate with `basicConstraints CA:TRUE` (whose key
/// usage, if any, allows signing certificates), or a self-signed version 1 one.
fn is_ca(ca: &X509Certificate<'_>) -> Result<(), &'static str> {
    if ca.version() == X509Version::V1 {
        let self_signed =
            ca.subject().as_raw() == ca.issuer().as_raw() && ca.verify_signature(None).is_ok();
        return if self_signed {
            Ok(())
        } else {
            Err("is X.509 version 1 and not self-signed: not a CA")
        };
    }
    match ca.basic_constraints() {
        Ok(Some(constraints)) if constraints.value.ca => {}
        _ => return Err("is not a CA (no basicConstraints CA:TRUE)"),
    }
    match ca.key_usage() {
        Ok(Some(usage)) if !usage.value.key_cert_sign() => {
            Err("may not sign certificates (its keyUsage lacks keyCertSign)")
        }
        Ok(_) => Ok(()),
        Err(_) => Err("has a keyUsage that cannot be read"),
    }
}

/// What webpki accepts: RSA with SHA-256/384/512 (PKCS#1 v1.5 or PSS), ECDSA with SHA-256/384,
/// Ed25519.
fn strong_algorithm(cert: &X509Certificate<'_>) -> bool {
    [
        OID_PKCS1_SHA256WITHRSA,
        OID_PKCS1_SHA384WITHRSA,
        OID_PKCS1_SHA512WITHRSA,
        OID_PKCS1_RSASSAPSS,
        OID_SIG_ECDSA_WITH_SHA256,
        OID_SIG_ECDSA_WITH_SHA384,
        OID_SIG_ED25519,
    ]
    .contains(&cert.signature_algorithm.algorithm)
}

/// The handshake's signature (TLS 1.3) with the version 1 certificate's key.
pub fn verify_tls13(
    cert: &X509Certificate<'_>,
    message: &[u8],
    dss: &DigitallySignedStruct,
    algorithms: &WebPkiSupportedAlgorithms,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    let spki = SubjectPublicKeyInfoDer::from(cert.public_key().raw);
    rustls::crypto::verify_tls13_signature_with_raw_key(message, &spki, dss, algorithms)
}

/// The handshake's signature (TLS 1.2) with the version 1 certificate's key: each algorithm
/// the scheme may stand for whose key type is the certificate's, as rustls tries them.
pub fn verify_tls12(
    cert: &X509Certificate<'_>,
    message: &[u8],
    dss: &DigitallySignedStruct,
    algorithms: &WebPkiSupportedAlgorithms,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    let key = cert.public_key();
    let key_algorithm = algorithm_contents(key.raw);
    let candidates = algorithms
        .mapping
        .iter()
        .filter(|(scheme, _)| *scheme == dss.scheme)
        .flat_map(|(_, candidates)| candidates.iter());
    for candidate in candidates {
        if Some(candidate.public_key_alg_id().as_ref()) != key_algorithm {
            continue;
        }
        return candidate
            .verify_signature(&key.subject_public_key.data, message, dss.signature())
            .map(|()| HandshakeSignatureValid::assertion())
            .map_err(|_| {
                rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature)
            });
    }
    Err(rustls::Error::PeerMisbehaved(
        rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme,
    ))
}

/// The contents of the AlgorithmIdentifier that opens a SubjectPublicKeyInfo's DER (as
/// webpki compares them): `SEQUENCE { SEQUENCE { algorithm... }, BIT STRING }`.
fn algorithm_contents(spki: &[u8]) -> Option<&[u8]> {
    /// One DER element at the start of `der`: its contents and what follows it.
    fn element(der: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
        let (&found, rest) = der.split_first()?;
        if found != tag {
            return None;
        }
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
                .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
            (length, &rest[count..])
        };
        (rest.len() >= length).then(|| rest.split_at(length))
    }
    let (outer, _) = element(spki, 0x30)?;
    let (algorithm, _) = element(outer, 0x30)?;
    Some(algorithm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_algorithm_of_a_key_is_read_from_its_der() {
        // SEQUENCE { SEQUENCE { OID 1.2.840.113549.1.1.1, NULL }, BIT STRING {...} }
        let spki = [
            0x30, 0x13, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
            0x01, 0x05, 0x00, 0x03, 0x02, 0x00, 0x00,
        ];
        assert_eq!(algorithm_contents(&spki), Some(&spki[4..17]));
        assert_eq!(algorithm_contents(&spki[..10]), None, "cut short");
        assert_eq!(algorithm_contents(&[0x31, 0x00]), None, "not a SEQUENCE");
    }
}
