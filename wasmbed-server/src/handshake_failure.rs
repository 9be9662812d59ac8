//! [`HandshakeFailure`]: why a TLS handshake failed, one class per log line and per value of
//! the `result` label of `wasmbed_handshakes_total`.

/// Why a TLS handshake failed: one class per log line (rate-limited per class) and per value
/// of the `result` label of `wasmbed_handshakes_total`.
///
/// Each variant says what the peer did and what the operator can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeFailure {
    /// The client sent nothing, or did not finish the handshake, within the handshake timeout
    /// (`--handshake-timeout-secs`). A slow device link or a client that stalled on purpose;
    /// raise the timeout only if real devices hit it.
    Timeout,
    /// Plaintext HTTP on the TLS port; it was answered with a 400 saying to use `https://`.
    /// Fix the client's URL.
    PlaintextHttp,
    /// The first byte was not a TLS handshake record (0x16): a port scanner or another
    /// protocol. Nothing to do unless a device is misconfigured to speak something else.
    NotTls,
    /// The client started TLS but sent malformed or out-of-order records or messages (bad
    /// lengths, a ClientHello over 64 KiB, records between handshake fragments, an all-zero
    /// TLS 1.3 inner plaintext). It got the alert RFC 8446 asks for. A broken TLS stack or a
    /// probe; update the client.
    MalformedTls,
    /// The client offers only protocol versions the gateway does not speak (SSL 3.0, TLS 1.0,
    /// 1.1); it got protocol_version. Enable TLS 1.2 or 1.3 on the device (Mbed TLS:
    /// `MBEDTLS_SSL_PROTO_TLS1_2` / `MBEDTLS_SSL_PROTO_TLS1_3`).
    UnsupportedVersion,
    /// The client's cipher suites or key exchange groups have nothing in common with the
    /// gateway's; it got handshake_failure. Devices need ECDHE with AES-GCM or ChaCha20-Poly1305
    /// and the P-256, P-384 or X25519 group.
    NoSharedCipherSuite,
    /// The client's signature_algorithms allow no signature the gateway's key can make (for
    /// example ECDSA with SHA-384 only against a P-256 key), or the extension is missing; it
    /// got handshake_failure. Enable the key's scheme on the device (P-256: ECDSA with SHA-256)
    /// or give the gateway a certificate whose key the device can verify.
    NoSignatureScheme,
    /// The server_name extension is malformed or not one DNS host name (RFC 6066 section 3);
    /// the client got illegal_parameter. Fix the hostname configured on the device. (An IP
    /// address sent as SNI is not this: it is ignored, as devices dialling by IP do it.)
    BadSni,
    /// The client closed the connection after it started the handshake: a device that lost
    /// power or its link, or one that gave up; logged at info. Repeated lines for one device
    /// point at its network. A connection closed before its first byte (a TCP health check, a
    /// port scan) is counted here too but logged only at debug.
    PeerClosed,
    /// The client ended the handshake with an alert, named in the log line. `unknown_ca`,
    /// `bad_certificate`, `certificate_expired` and the like mean it rejected the gateway's
    /// certificate: give the device the CA that signed it, or fix the name or validity.
    ClientAlert,
    /// Mutual TLS: the client presented no certificate, or one that is not valid (wrong CA,
    /// expired, revoked; the reason is in the log line). Issue the device a certificate from
    /// the device CA given with `--client-ca`.
    ClientCertificate,
    /// Anything else (an I/O error on the socket, an internal failure); the detail says what.
    Other,
}

impl HandshakeFailure {
    /// Every class, in the order of the metric's label values.
    pub const ALL: [HandshakeFailure; 12] = [
        HandshakeFailure::Timeout,
        HandshakeFailure::PlaintextHttp,
        HandshakeFailure::NotTls,
        HandshakeFailure::MalformedTls,
        HandshakeFailure::UnsupportedVersion,
        HandshakeFailure::NoSharedCipherSuite,
        HandshakeFailure::NoSignatureScheme,
        HandshakeFailure::BadSni,
        HandshakeFailure::PeerClosed,
        HandshakeFailure::ClientAlert,
        HandshakeFailure::ClientCertificate,
        HandshakeFailure::Other,
    ];

    /// The metric label and log class, in snake_case.
    pub fn as_str(self) -> &'static str {
        match self {
            HandshakeFailure::Timeout => "timeout",
            HandshakeFailure::PlaintextHttp => "plaintext_http",
            HandshakeFailure::NotTls => "not_tls",
            HandshakeFailure::MalformedTls => "malformed_tls",
            HandshakeFailure::UnsupportedVersion => "unsupported_version",
            HandshakeFailure::NoSharedCipherSuite => "no_shared_cipher_suite",
            HandshakeFailure::NoSignatureScheme => "no_signature_scheme",
            HandshakeFailure::BadSni => "bad_sni",
            HandshakeFailure::PeerClosed => "peer_closed",
            HandshakeFailure::ClientAlert => "client_alert",
            HandshakeFailure::ClientCertificate => "client_certificate_rejected",
            HandshakeFailure::Other => "other",
        }
    }
}
