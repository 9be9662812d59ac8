//! Hand-built TLS records and ClientHellos for tests that talk to the gateway below rustls'
//! client API: record framing (RFC 8446 section 5.1), legacy hellos, and encryption with the
//! traffic secrets a rustls client gives up (`dangerous_extract_secrets`).

#![allow(dead_code, unreachable_pub)]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmbed_tls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use wasmbed_tls::rustls::crypto::aws_lc_rs;
use wasmbed_tls::rustls::crypto::cipher::{
    InboundOpaqueMessage, MessageDecrypter, MessageEncrypter, OutboundChunks, OutboundPlainMessage,
};
use wasmbed_tls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use wasmbed_tls::rustls::{
    self, ClientConfig, ClientConnection, ConnectionTrafficSecrets, ContentType,
    DigitallySignedStruct, ProtocolVersion, SignatureScheme, SupportedCipherSuite,
    SupportedProtocolVersion,
};

pub const ALERT: u8 = 0x15;
pub const HANDSHAKE: u8 = 0x16;
pub const APPLICATION_DATA: u8 = 0x17;

/// A fatal plaintext alert record as the gateway sends it.
pub fn fatal_alert(description: u8) -> Vec<u8> {
    vec![ALERT, 0x03, 0x03, 0x00, 0x02, 0x02, description]
}

/// One record of `typ` around `payload`, with record version `version`.
pub fn record(typ: u8, version: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![typ];
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&u16::try_from(payload.len()).unwrap().to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// `handshake` cut into handshake records of at most `fragment` bytes each.
pub fn fragment(handshake: &[u8], fragment: usize) -> Vec<Vec<u8>> {
    handshake
        .chunks(fragment)
        .map(|chunk| record(HANDSHAKE, 0x0301, chunk))
        .collect()
}

/// A handshake message: type, 24-bit length, body.
pub fn handshake_message(typ: u8, body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len()).unwrap().to_be_bytes();
    let mut out = vec![typ, len[1], len[2], len[3]];
    out.extend_from_slice(body);
    out
}

/// A ClientHello from before TLS 1.2 (`legacy_version` 0x0301 for TLS 1.0, 0x0302 for 1.1):
/// ECDHE-ECDSA suites, no extensions, as such a client sends it.
pub fn legacy_client_hello(version: u16) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend_from_slice(&[0x5a; 32]);
    body.push(0);
    // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
    body.extend_from_slice(&[0x00, 0x04, 0xc0, 0x09, 0xc0, 0x0a]);
    body.extend_from_slice(&[0x01, 0x00]);
    record(HANDSHAKE, version, &handshake_message(1, &body))
}

/// A TLS 1.2 ClientHello record offering `suites`, with the extensions a device sends
/// (signature_algorithms ECDSA-SHA256, supported_groups P-256, ec_point_formats) and, if
/// given, a server_name extension carrying `sni` as a host_name.
pub fn tls12_client_hello(suites: &[u16], sni: Option<&[u8]>) -> Vec<u8> {
    let mut body = 0x0303u16.to_be_bytes().to_vec();
    body.extend_from_slice(&[0x5a; 32]);
    body.push(0);
    body.extend_from_slice(&u16::try_from(2 * suites.len()).unwrap().to_be_bytes());
    for suite in suites {
        body.extend_from_slice(&suite.to_be_bytes());
    }
    body.extend_from_slice(&[0x01, 0x00]);
    let mut extensions = Vec::new();
    let mut extension = |typ: u16, data: &[u8]| {
        extensions.extend_from_slice(&typ.to_be_bytes());
        extensions.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
        extensions.extend_from_slice(data);
    };
    extension(0x000d, &[0x00, 0x02, 0x04, 0x03]);
    extension(0x000a, &[0x00, 0x02, 0x00, 0x17]);
    extension(0x000b, &[0x01, 0x00]);
    if let Some(name) = sni {
        let len = u16::try_from(name.len()).unwrap().to_be_bytes();
        let list = u16::try_from(name.len() + 3).unwrap().to_be_bytes();
        let mut data = vec![list[0], list[1], 0x00, len[0], len[1]];
        data.extend_from_slice(name);
        extension(0x0000, &data);
    }
    body.extend_from_slice(&u16::try_from(extensions.len()).unwrap().to_be_bytes());
    body.extend_from_slice(&extensions);
    record(HANDSHAKE, 0x0301, &handshake_message(1, &body))
}

/// A TLS 1.2 ClientHello message `len` bytes long (at most about 128 KiB): a cipher suite
/// list of up to 32767 entries and a padding extension (RFC 7685) fill it.
pub fn oversized_client_hello(len: usize) -> Vec<u8> {
    let fixed = 4 + 2 + 32 + 1 + 2 + 2 + 2 + 4;
    let suites = ((len - fixed) / 2).min(32_767);
    let padding = len - fixed - 2 * suites;
    let mut body = 0x0303u16.to_be_bytes().to_vec();
    body.extend_from_slice(&[0x5a; 32]);
    body.push(0);
    body.extend_from_slice(&u16::try_from(2 * suites).unwrap().to_be_bytes());
    for i in 0..suites {
        // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 last; unknown values before it.
        let suite = if i + 1 == suites { 0xc02b } else { 0x0a0a };
        body.extend_from_slice(&u16::to_be_bytes(suite));
    }
    body.extend_from_slice(&[0x01, 0x00]);
    body.extend_from_slice(&u16::try_from(padding + 4).unwrap().to_be_bytes());
    body.extend_from_slice(&[0x00, 0x15]);
    body.extend_from_slice(&u16::try_from(padding).unwrap().to_be_bytes());
    body.resize(body.len() + padding, 0);
    let message = handshake_message(1, &body);
    assert_eq!(message.len(), len);
    message
}

/// A certificate verifier that accepts anything and announces only `schemes`, so that the
/// ClientHello's signature_algorithms lists just those.
#[derive(Debug)]
pub struct Schemes(pub Vec<SignatureScheme>);

impl ServerCertVerifier for Schemes {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.clone()
    }
}

/// A client config for `versions` and `suites` (all of aws-lc-rs' when empty) that verifies
/// nothing, offers `schemes` and can hand out its traffic secrets.
pub fn client_config(
    versions: &[&'static SupportedProtocolVersion],
    suites: &[SupportedCipherSuite],
    schemes: &[SignatureScheme],
) -> Arc<ClientConfig> {
    let mut provider = aws_lc_rs::default_provider();
    if !suites.is_empty() {
        provider.cipher_suites = suites.to_vec();
    }
    let mut config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Schemes(schemes.to_vec())))
        .with_no_client_auth();
    config.enable_secret_extraction = true;
    config.resumption = rustls::client::Resumption::disabled();
    Arc::new(config)
}

/// The ECDSA schemes a device offers.
pub fn device_schemes() -> Vec<SignatureScheme> {
    vec![
        SignatureScheme::ECDSA_NISTP256_SHA256,
        SignatureScheme::ECDSA_NISTP384_SHA384,
    ]
}

/// The first flight (the ClientHello record) a rustls client with `config` sends.
pub fn client_hello(config: Arc<ClientConfig>) -> Vec<u8> {
    let mut client = ClientConnection::new(config, "localhost".try_into().unwrap()).unwrap();
    let mut out = Vec::new();
    client.write_tls(&mut out).unwrap();
    out
}

/// The handshake message inside a single-record flight.
pub fn record_payload(record: &[u8]) -> &[u8] {
    &record[5..]
}

/// Connects to `addr` with reads that give up after 10 s.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.set_nodelay(true).unwrap();
    tcp
}

/// Everything the server sends until it closes (or resets) the connection, or 10 s pass.
pub fn read_until_close(tcp: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tcp.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return out,
        }
    }
}

/// Reads one whole record, or `None` at EOF or after `limit`.
pub fn read_record(tcp: &mut TcpStream, limit: Duration) -> Option<(u8, Vec<u8>)> {
    tcp.set_read_timeout(Some(limit)).unwrap();
    let mut header = [0u8; 5];
    tcp.read_exact(&mut header).ok()?;
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
    tcp.read_exact(&mut payload).ok()?;
    Some((header[0], payload))
}

/// A rustls client that finished its handshake with the gateway over `tcp`, and the traffic
/// keys it used, for sending records it would never send.
pub struct Keys {
    pub version: ProtocolVersion,
    pub suite: SupportedCipherSuite,
    pub tx_seq: u64,
    pub rx_seq: u64,
    pub encrypter: Box<dyn MessageEncrypter>,
    pub decrypter: Box<dyn MessageDecrypter>,
}

/// Runs a full handshake with `config` on `tcp` and extracts the traffic keys.
pub fn handshake(tcp: &mut TcpStream, config: Arc<ClientConfig>) -> Keys {
    let mut client = ClientConnection::new(config, "localhost".try_into().unwrap()).unwrap();
    while client.is_handshaking() {
        client.complete_io(tcp).unwrap();
    }
    // Sends what is left of the client's last flight.
    while client.wants_write() {
        client.write_tls(tcp).unwrap();
    }
    let version = client.protocol_version().unwrap();
    let suite = client.negotiated_cipher_suite().unwrap();
    let secrets = client.dangerous_extract_secrets().unwrap();
    let (tx_seq, tx) = secrets.tx;
    let (rx_seq, rx) = secrets.rx;
    let ((tx_key, tx_iv), (rx_key, rx_iv)) = (parts(tx), parts(rx));
    let (encrypter, decrypter) = match suite {
        SupportedCipherSuite::Tls13(tls13) => (
            tls13.aead_alg.encrypter(tx_key, tx_iv),
            tls13.aead_alg.decrypter(rx_key, rx_iv),
        ),
        SupportedCipherSuite::Tls12(tls12) => (
            tls12.aead_alg.encrypter(tx_key, tx_iv.as_ref(), &[]),
            tls12.aead_alg.decrypter(rx_key, rx_iv.as_ref()),
        ),
    };
    Keys {
        version,
        suite,
        tx_seq,
        rx_seq,
        encrypter,
        decrypter,
    }
}

fn parts(
    secrets: ConnectionTrafficSecrets,
) -> (rustls::crypto::cipher::AeadKey, rustls::crypto::cipher::Iv) {
    match secrets {
        ConnectionTrafficSecrets::Aes128Gcm { key, iv }
        | ConnectionTrafficSecrets::Aes256Gcm { key, iv }
        | ConnectionTrafficSecrets::Chacha20Poly1305 { key, iv } => (key, iv),
        _ => panic!("the test suites are AES-GCM or ChaCha20-Poly1305"),
    }
}

impl Keys {
    /// The wire bytes of a record of inner type `typ` around `payload`, encrypted as the
    /// client's next record.
    pub fn seal(&mut self, typ: ContentType, payload: &[u8]) -> Vec<u8> {
        let message = OutboundPlainMessage {
            typ,
            version: ProtocolVersion::TLSv1_2,
            payload: OutboundChunks::Single(payload),
        };
        let sealed = self.encrypter.encrypt(message, self.tx_seq).unwrap();
        self.tx_seq += 1;
        sealed.encode()
    }

    /// Decrypts the server's next record: (inner content type, plaintext).
    pub fn open(&mut self, typ: u8, mut payload: Vec<u8>) -> (ContentType, Vec<u8>) {
        let message = InboundOpaqueMessage::new(
            ContentType::from(typ),
            ProtocolVersion::TLSv1_2,
            &mut payload,
        );
        let plain = self.decrypter.decrypt(message, self.rx_seq).unwrap();
        self.rx_seq += 1;
        (plain.typ, plain.payload.to_vec())
    }
}

/// Reads the server's records until it closes or `limit` passes, decrypting each.
pub fn read_sealed(
    tcp: &mut TcpStream,
    keys: &mut Keys,
    limit: Duration,
) -> Vec<(ContentType, Vec<u8>)> {
    let deadline = Instant::now() + limit;
    let mut out = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Some((typ, payload)) = read_record(tcp, left.max(Duration::from_millis(1))) else {
            break;
        };
        out.push(keys.open(typ, payload));
    }
    out
}

/// A key log that keeps every secret a rustls client derives, by label.
#[derive(Debug, Default)]
pub struct Secrets(pub std::sync::Mutex<Vec<(String, Vec<u8>)>>);

impl rustls::KeyLog for Secrets {
    fn log(&self, label: &str, _client_random: &[u8], secret: &[u8]) {
        self.0
            .lock()
            .unwrap()
            .push((label.to_owned(), secret.to_vec()));
    }

    fn will_log(&self, _label: &str) -> bool {
        true
    }
}

impl Secrets {
    pub fn get(&self, label: &str) -> Vec<u8> {
        let secrets = self.0.lock().unwrap();
        secrets
            .iter()
            .find(|(name, _)| name == label)
            .unwrap_or_else(|| panic!("no {label}"))
            .1
            .clone()
    }
}

/// The record key and IV of a TLS_CHACHA20_POLY1305_SHA256 traffic secret (RFC 8446 section
/// 7.3: HKDF-Expand-Label with "key" and "iv").
pub fn chacha_traffic_keys(
    secret: &[u8],
) -> (Box<dyn MessageEncrypter>, Box<dyn MessageDecrypter>) {
    let suite = aws_lc_rs::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256
        .tls13()
        .unwrap();
    let expander = suite
        .hkdf_provider
        .expander_for_okm(&rustls::crypto::tls13::OkmBlock::new(secret));
    let expand = |label: &[u8], out: &mut [u8]| {
        let len = u16::try_from(out.len()).unwrap().to_be_bytes();
        let label_len = [u8::try_from(6 + label.len()).unwrap()];
        expander
            .expand_slice(&[&len, &label_len, b"tls13 ", label, &[0]], out)
            .unwrap();
    };
    let mut key = [0u8; 32];
    let mut iv = [0u8; 12];
    expand(b"key", &mut key);
    expand(b"iv", &mut iv);
    (
        suite.aead_alg.encrypter(key.into(), iv.into()),
        suite.aead_alg.decrypter(key.into(), iv.into()),
    )
}

/// The content type of each whole record in `bytes`, with its payload.
pub fn split_records(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        let Some(payload) = rest.get(5..5 + len) else {
            break;
        };
        out.push((rest[0], payload.to_vec()));
        rest = &rest[5 + len..];
    }
    out
}

/// Writes `bytes`, ignoring a reset (the gateway may have closed already).
pub fn send(tcp: &mut TcpStream, bytes: &[u8]) {
    let _ = tcp.write_all(bytes);
}
