//! Builds the one `rustls::ClientConfig` a TLS or wss connection uses, and explains TLS failures.
//!
//! Trust is the Mozilla roots (webpki-roots) unless `--cafile`/`--capath` replace them or
//! `--native-roots` asks for the operating system's store. Verification is on unless the user
//! says `--insecure`. PEM is read with `rustls::pki_types::pem::PemObject` (rustls-pemfile is
//! unmaintained). Everything here runs before any network I/O: a bad file exits 2.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use rustls::CipherSuite;
use rustls::client::ResolvesClientCert;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{
    AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore,
    SignatureScheme,
};

use crate::error::usage;

mod v1;

/// Where trusted CA certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The Mozilla root program, compiled in (webpki-roots).
    MozillaRoots,
    /// The operating system's certificate store.
    NativeRoots,
    /// PEM files given with `--cafile`, and the certificates in `--capath` directories.
    Files(Vec<PathBuf>),
}

impl fmt::Display for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trust::MozillaRoots => f.write_str("the Mozilla root certificates"),
            Trust::NativeRoots => f.write_str("the system's root certificates"),
            Trust::Files(files) => {
                let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
                write!(f, "the CA certificates in {}", names.join(", "))
            }
        }
    }
}

/// Lowest TLS version accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsVersion {
    #[value(name = "1.2", alias = "tlsv1.2")]
    V1_2,
    #[value(name = "1.3", alias = "tlsv1.3")]
    V1_3,
}

/// Cipher suites named by `--ciphers` (mosquitto's OpenSSL names, IANA's or rustls'); empty:
/// rustls' defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ciphers(pub Vec<CipherSuite>);

/// OpenSSL's names of the suites rustls has (TLS 1.2; TLS 1.3's names are IANA's).
const OPENSSL_NAMES: &[(&str, CipherSuite)] = &[
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "TLS_AES_256_GCM_SHA384",
        CipherSuite::TLS13_AES_256_GCM_SHA384,
    ),
    (
        "TLS_AES_128_GCM_SHA256",
        CipherSuite::TLS13_AES_128_GCM_SHA256,
    ),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    ),
];

/// `--ciphers LIST`: names separated by `:` (OpenSSL's form), `,` or spaces.
pub fn parse_ciphers(text: &str) -> Result<Ciphers, String> {
    let provider = ring::default_provider();
    let mut suites = Vec::new();
    for name in text.split([':', ',', ' ']).filter(|name| !name.is_empty()) {
        let found = OPENSSL_NAMES
            .iter()
            .find(|(openssl, _)| openssl.eq_ignore_ascii_case(name))
            .map(|(_, suite)| *suite)
            .or_else(|| {
                provider
                    .cipher_suites
                    .iter()
                    .map(|suite| suite.suite())
                    .find(|suite| format!("{suite:?}").eq_ignore_ascii_case(name))
            });
        match found {
            Some(suite) => suites.push(suite),
            None => {
                let known: Vec<&str> = OPENSSL_NAMES.iter().map(|(name, _)| *name).collect();
                return Err(format!(
                    "'{name}' is not a cipher suite rustls has (OpenSSL keywords such as HIGH or !aNULL, and suites without forward secrecy or AEAD, are not supported); name some of: {}",
                    known.join(":")
                ));
            }
        }
    }
    if suites.is_empty() {
        return Err("no cipher suite named".to_string());
    }
    Ok(Ciphers(suites))
}

/// Everything the TLS layer needs, validated.
#[derive(Debug, Clone)]
pub struct TlsOptions {
    pub trust: Trust,
    pub client_cert: Option<(PathBuf, PathBuf)>,
    pub insecure: bool,
    /// Verify the certificate against this name (and send it as SNI) instead of the host.
    pub server_name: Option<String>,
    pub alpn: Vec<String>,
    pub min_version: TlsVersion,
    pub ciphers: Ciphers,
    /// `--tls-keylog`: where to append the session keys.
    pub keylog: Option<PathBuf>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            trust: Trust::MozillaRoots,
            client_cert: None,
            insecure: false,
            server_name: None,
            alpn: Vec::new(),
            min_version: TlsVersion::V1_2,
            ciphers: Ciphers::default(),
            keylog: None,
        }
    }
}

/// A built client configuration and the facts error messages need.
#[derive(Clone)]
pub struct TlsSetup {
    pub config: Arc<ClientConfig>,
    pub options: TlsOptions,
}

impl fmt::Debug for TlsSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSetup")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Reads certificates and keys and builds the rustls configuration.
pub fn build(options: TlsOptions) -> Result<TlsSetup> {
    let mut provider = ring::default_provider();
    let versions: &[&rustls::SupportedProtocolVersion] = match options.min_version {
        TlsVersion::V1_2 => rustls::ALL_VERSIONS,
        TlsVersion::V1_3 => &[&rustls::version::TLS13],
    };
    if !options.ciphers.0.is_empty() {
        // As OpenSSL's cipher list (mosquitto's --ciphers): the suites named for a TLS version
        // replace that version's; a version with none named keeps its own.
        let is_13 =
            |suite: &rustls::SupportedCipherSuite| suite.version() == &rustls::version::TLS13;
        let named_13 = options.ciphers.0.iter().any(|name| {
            provider
                .cipher_suites
                .iter()
                .any(|suite| suite.suite() == *name && is_13(suite))
        });
        let named_12 = options.ciphers.0.iter().any(|name| {
            provider
                .cipher_suites
                .iter()
                .any(|suite| suite.suite() == *name && !is_13(suite))
        });
        provider.cipher_suites.retain(|suite| {
            let restricted = if is_13(suite) { named_13 } else { named_12 };
            !restricted || options.ciphers.0.contains(&suite.suite())
        });
    }
    let provider = Arc::new(provider);
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|err| anyhow::anyhow!("TLS setup: {err}"))?;

    let verifier = verifier(&options, &provider)?;
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);

    let mut config = match &options.client_cert {
        Some((cert, key)) => {
            let resolver = client_certificate(cert, key, &provider)?;
            builder.with_client_cert_resolver(resolver)
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = options
        .alpn
        .iter()
        .map(|protocol| protocol.as_bytes().to_vec())
        .collect();
    config.key_log = key_log(options.keylog.as_deref())?;
    Ok(TlsSetup {
        config: Arc::new(config),
        options,
    })
}

/// What checks the server's certificate: nothing with `--insecure`, else webpki against the
/// trusted roots, with our words for its refusals and X.509 version 1 certificates (`v1.rs`).
fn verifier(
    options: &TlsOptions,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>> {
    Ok(if options.insecure {
        Arc::new(AcceptAnything(provider.clone()))
    } else {
        let (roots, v1_cas) = root_store(&options.trust)?;
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|err| anyhow::anyhow!("TLS setup: {err}"))?;
        Arc::new(Verifier {
            inner: webpki,
            name: options
                .server_name
                .as_deref()
                .map(server_name)
                .transpose()?,
            // X.509 version 1 server certificates only under CAs the user gave (v1.rs).
            v1_cas,
            algorithms: provider.signature_verification_algorithms,
        })
    })
}

/// `--tls-keylog FILE`, else `SSLKEYLOGFILE`: the session keys for Wireshark, appended in the
/// NSS key log format (as mosquitto 2.1's `--tls-keylog` and OpenSSL's). Whoever reads the
/// file can decrypt the session: said on stderr each time, and the file is made readable by
/// its owner only.
fn key_log(file: Option<&Path>) -> Result<Arc<dyn rustls::KeyLog>> {
    let env = std::env::var_os("SSLKEYLOGFILE").filter(|path| !path.is_empty());
    let Some(path) = file.map(Path::to_path_buf).or(env.map(PathBuf::from)) else {
        return Ok(Arc::new(rustls::NoKeyLog));
    };
    use std::os::unix::fs::OpenOptionsExt;
    let opened = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(&path)
        .map_err(|err| {
            usage(format!(
                "cannot write the TLS key log {}: {err}",
                path.display()
            ))
        })?;
    eprintln!(
        "mqtt-cli: warning: TLS session keys are appended to {}: whoever reads it can decrypt this session",
        path.display()
    );
    Ok(Arc::new(KeyLogTo(std::sync::Mutex::new(opened))))
}

#[derive(Debug)]
struct KeyLogTo(std::sync::Mutex<std::fs::File>);

impl rustls::KeyLog for KeyLogTo {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        use std::io::Write;
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let line = format!("{label} {} {}\n", hex(client_random), hex(secret));
        if let Ok(mut file) = self.0.lock() {
            // A key log that cannot be written loses the capture's keys, not the session.
            let _ = file.write_all(line.as_bytes());
        }
    }
}

/// The client certificate chain and its key. The key must go with the certificate: their public
/// keys are compared (x509-parser reads X.509 v1 certificates too, which openssl's `x509 -req`
/// makes and which webpki, and so rustls's own check, refuses although servers accept them).
fn client_certificate(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<Arc<dyn ResolvesClientCert>> {
    let chain = read_certs(cert)?;
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|err| {
        usage(format!(
            "cannot read a private key (PKCS#1, PKCS#8 or SEC1 PEM) from {}: {err}",
            key.display()
        ))
    })?;
    let signing_key = provider
        .key_provider
        .load_private_key(key_der)
        .map_err(|err| {
            usage(format!(
                "{}: not a usable private key: {err}",
                key.display()
            ))
        })?;
    let (_, parsed) = x509_parser::parse_x509_certificate(chain[0].as_ref()).map_err(|err| {
        usage(format!(
            "{}: not a readable X.509 certificate: {err}",
            cert.display()
        ))
    })?;
    // A key type whose public half rustls cannot give is not refused: the server will judge.
    if let Some(public) = signing_key.public_key()
        && public.as_ref() != parsed.public_key().raw
    {
        return Err(usage(format!(
            "the key {} does not go with the certificate {}: their public keys differ",
            key.display(),
            cert.display()
        )));
    }
    Ok(Arc::new(SingleCertAndKey::from(CertifiedKey::new(
        chain,
        signing_key,
    ))))
}

/// Checks a `--tls-server-name` value.
pub fn server_name(name: &str) -> Result<ServerName<'static>> {
    ServerName::try_from(name.to_string()).map_err(|_| {
        usage(format!(
            "invalid --tls-server-name '{name}': not a DNS name or IP"
        ))
    })
}

/// The trusted roots, and the certificates of `--cafile`/`--capath` themselves (read once;
/// none for the Mozilla or the system's roots), which X.509 version 1 verification needs.
fn root_store(trust: &Trust) -> Result<(RootCertStore, Vec<CertificateDer<'static>>)> {
    let mut store = RootCertStore::empty();
    let mut files_certs = Vec::new();
    match trust {
        Trust::MozillaRoots => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Trust::NativeRoots => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(usage(
                    "--native-roots: no usable certificate in the system's store",
                ));
            }
        }
        Trust::Files(files) => {
            for file in files {
                for cert in read_certs(file)? {
                    store.add(cert.clone()).map_err(|err| {
                        usage(format!(
                            "{}: not a usable CA certificate: {err}",
                            file.display()
                        ))
                    })?;
                    files_certs.push(cert);
                }
            }
        }
    }
    Ok((store, files_certs))
}

/// All certificates in a PEM file; none, or an unreadable file, is bad input.
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|err| {
            usage(format!(
                "cannot read certificates from {}: {}",
                path.display(),
                pem_error(err)
            ))
        })?;
    if certs.is_empty() {
        return Err(usage(format!(
            "{}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(certs)
}

fn pem_error(err: rustls::pki_types::pem::Error) -> String {
    match err {
        rustls::pki_types::pem::Error::Io(io) => io.to_string(),
        other => format!("malformed PEM ({other:?})"),
    }
}

/// The PEM files of a `--capath` directory (`*.pem`, `*.crt`), sorted.
pub fn capath_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|err| usage(format!("cannot read --capath {}: {err}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.is_file()
                && path
                    .extension()
                    .is_some_and(|ext| ext == "pem" || ext == "crt")
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(usage(format!(
            "--capath {}: no .pem or .crt files in it",
            dir.display()
        )));
    }
    Ok(files)
}

/// Verifies the server's certificate with webpki, against `--tls-server-name` when given instead
/// of the host connected to, and puts what webpki cannot say into words: an X.509 v1 certificate,
/// a certificate that names its host only in the CN.
#[derive(Debug)]
struct Verifier {
    inner: Arc<WebPkiServerVerifier>,
    name: Option<ServerName<'static>>,
    /// The `--cafile`/`--capath` certificates, for an X.509 version 1 server certificate.
    v1_cas: Vec<CertificateDer<'static>>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
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
        let name = self.name.as_ref().unwrap_or(server_name);
        if let Some(v1) = v1::parsed(end_entity.as_ref())
            && !self.v1_cas.is_empty()
        {
            return match v1::verify(&v1, &self.v1_cas, name, now) {
                Ok(ca) => {
                    tracing::debug!(
                        "the broker's certificate ({}) is X.509 version 1 (no extensions): \
                         verified against the CA {ca}, its dates and its CN",
                        v1.subject()
                    );
                    Ok(ServerCertVerified::assertion())
                }
                Err(why) => Err(explained(why)),
            };
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, name, ocsp_response, now)
            .map_err(|err| explain_certificate(end_entity, err))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match v1::parsed(cert.as_ref()) {
            Some(v1) => v1::verify_tls12(&v1, message, dss, &self.algorithms),
            None => self.inner.verify_tls12_signature(message, cert, dss),
        }
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match v1::parsed(cert.as_ref()) {
            Some(v1) => v1::verify_tls13(&v1, message, dss, &self.algorithms),
            None => self.inner.verify_tls13_signature(message, cert, dss),
        }
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A certificate failure already put in words (carried through rustls as `OtherError`).
#[derive(Debug)]
struct Explained(String);

impl fmt::Display for Explained {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Explained {}

/// A certificate failure in our words, through rustls.
fn explained(text: String) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(
        Explained(text),
    ))))
}

/// webpki's verdict on `end_entity`, in words where webpki's own are not enough.
fn explain_certificate(end_entity: &CertificateDer<'_>, err: rustls::Error) -> rustls::Error {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(end_entity.as_ref()) else {
        return err;
    };
    let subject = cert.subject().to_string();
    if cert.version() == x509_parser::x509::X509Version::V1 {
        return explained(format!(
            "the broker's certificate ({subject}) is an X.509 version 1 certificate: it is \
             accepted only under a CA given with --cafile or --capath (public CAs issue \
             version 3 only); or re-issue it as version 3 (openssl x509 -req ... -extfile \
             v3.ext, with 'basicConstraints=CA:FALSE' and 'subjectAltName=DNS:<broker host>')"
        ));
    }
    let wrong_name = matches!(
        err,
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        )
    );
    if wrong_name && matches!(cert.subject_alternative_name(), Ok(None)) {
        let common_names: Vec<&str> = cert
            .subject()
            .iter_common_name()
            .filter_map(|cn| cn.as_str().ok())
            .collect();
        let only = if common_names.is_empty() {
            String::new()
        } else {
            format!(
                " (only CN={}, which TLS clients no longer use)",
                common_names.join(", CN=")
            )
        };
        let example = common_names.first().copied().unwrap_or("<broker host>");
        return explained(format!(
            "the server's certificate has no subjectAltName{only}; re-issue it with \
             'subjectAltName=DNS:{example}' (openssl: -addext or -extfile), or skip \
             verification with --insecure"
        ));
    }
    err
}

/// `--insecure`: any certificate, any name. Handshake signatures are still checked, so the
/// session is encrypted with the key of whoever presented the certificate.
#[derive(Debug)]
struct AcceptAnything(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
        .or_else(|err| verify_with_any_certificate(message, cert, dss, &self.0, false).ok_or(err))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
        .or_else(|err| verify_with_any_certificate(message, cert, dss, &self.0, true).ok_or(err))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// For `--insecure`: checks a handshake signature with the public key of a certificate webpki
/// will not read (X.509 v1), taken out by x509-parser. `None` if it does not verify.
fn verify_with_any_certificate(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
    provider: &CryptoProvider,
    tls13: bool,
) -> Option<HandshakeSignatureValid> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let public_key = &parsed.public_key().subject_public_key.data;
    let (_, algorithms) = provider
        .signature_verification_algorithms
        .mapping
        .iter()
        .find(|(scheme, _)| *scheme == dss.scheme)?;
    // TLS 1.3 names one algorithm per scheme; TLS 1.2 may need each candidate tried.
    let candidates = if tls13 {
        &algorithms[..1.min(algorithms.len())]
    } else {
        algorithms
    };
    candidates
        .iter()
        .any(|algorithm| {
            algorithm
                .verify_signature(public_key, message, dss.signature())
                .is_ok()
        })
        .then(HandshakeSignatureValid::assertion)
}

/// Explains a failed handshake in words, naming what was trusted and what the server showed.
pub fn explain(err: &rustls::Error, setup: &TlsOptions, host: &str) -> String {
    let expected = setup.server_name.as_deref().unwrap_or(host);
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => format!(
                "the server's certificate is not signed by a trusted CA (trusted: {}); \
                 use --cafile with the broker's CA",
                setup.trust
            ),
            CertificateError::NotValidForName => {
                format!("the server's certificate is not valid for the name '{expected}'")
            }
            CertificateError::NotValidForNameContext { presented, .. } => format!(
                "the server's certificate is not valid for the name '{expected}': it names {} \
                 (connect by one of those, or check with --tls-server-name NAME)",
                if presented.is_empty() {
                    "nothing".to_string()
                } else {
                    presented
                        .iter()
                        .map(|name| bare_name(name))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            CertificateError::Expired => "the server's certificate has expired".to_string(),
            CertificateError::ExpiredContext { not_after, .. } => {
                format!("the server's certificate expired on {}", date(*not_after))
            }
            CertificateError::NotValidYet => {
                "the server's certificate is not valid yet".to_string()
            }
            CertificateError::NotValidYetContext { not_before, .. } => format!(
                "the server's certificate is not valid until {}",
                date(*not_before)
            ),
            CertificateError::Other(other) => match other.0.downcast_ref::<Explained>() {
                Some(explained) => explained.to_string(),
                None => format!("the server's certificate was rejected: {}", other.0),
            },
            other => format!("the server's certificate was rejected: {other:?}"),
        },
        rustls::Error::AlertReceived(AlertDescription::HandshakeFailure)
            if !setup.ciphers.0.is_empty() =>
        {
            "the broker accepts none of the --ciphers suites (it ended the handshake: \
             'handshake failure')"
                .to_string()
        }
        rustls::Error::AlertReceived(
            AlertDescription::CertificateRequired | AlertDescription::HandshakeFailure,
        ) if setup.client_cert.is_none() => {
            "the broker requires a client certificate: give one with --cert FILE --key FILE"
                .to_string()
        }
        rustls::Error::AlertReceived(alert) => {
            format!("the broker ended the TLS handshake with the alert '{alert:?}'")
        }
        rustls::Error::InvalidMessage(_) => {
            "the server does not speak TLS: is this a TLS port? (plain MQTT is usually 1883, \
             TLS 8883)"
                .to_string()
        }
        other => format!("TLS handshake failed: {other}"),
    }
}

/// rustls presents names as `DnsName("a.example")` / `IpAddress(V4(..))`: keep the name.
fn bare_name(presented: &str) -> &str {
    match (presented.find('('), presented.rfind(')')) {
        (Some(open), Some(close)) if open < close => presented[open + 1..close].trim_matches('"'),
        _ => presented,
    }
}

fn date(time: UnixTime) -> String {
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(time.as_secs()),
    )
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offered(list: &str) -> Vec<String> {
        let options = TlsOptions {
            ciphers: parse_ciphers(list).expect("known names"),
            ..TlsOptions::default()
        };
        let setup = build(options).expect("built");
        setup
            .config
            .crypto_provider()
            .cipher_suites
            .iter()
            .map(|suite| format!("{:?}", suite.suite()))
            .collect()
    }

    #[test]
    fn ciphers_replace_the_suites_of_their_tls_version_only() {
        let all_13 = [
            "TLS13_AES_256_GCM_SHA384",
            "TLS13_AES_128_GCM_SHA256",
            "TLS13_CHACHA20_POLY1305_SHA256",
        ];
        let mut want: Vec<&str> = all_13.to_vec();
        want.push("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(offered("ECDHE-RSA-AES128-GCM-SHA256"), want);
        let only_13 = offered("tls_aes_128_gcm_sha256");
        assert!(only_13.contains(&"TLS13_AES_128_GCM_SHA256".to_string()));
        assert!(!only_13.contains(&"TLS13_AES_256_GCM_SHA384".to_string()));
        assert_eq!(only_13.len(), 1 + 6, "{only_13:?}");
        assert!(parse_ciphers("HIGH").is_err());
        assert!(parse_ciphers(":").is_err());
    }
}
