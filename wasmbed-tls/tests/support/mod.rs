//! In-memory TLS handshakes between rustls connections, with the server's bytes kept for
//! inspection.

#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::sync::Arc;

use wasmbed_tls::rustls::pki_types::ServerName;
use wasmbed_tls::rustls::{self, ClientConfig, ClientConnection, ServerConfig, ServerConnection};

/// Which side failed.
#[derive(Debug, PartialEq)]
pub enum Failed {
    Client(rustls::Error),
    Server(rustls::Error),
    Stalled,
}

/// Two connected endpoints and every byte the server sent.
pub struct Pair {
    pub client: ClientConnection,
    pub server: ServerConnection,
    pub server_bytes: Vec<u8>,
}

impl Pair {
    pub fn new(client: Arc<ClientConfig>, server: Arc<ServerConfig>, name: &str) -> Pair {
        let name = ServerName::try_from(name.to_owned()).expect("valid server name");
        Pair {
            client: ClientConnection::new(client, name).expect("client connection"),
            server: ServerConnection::new(server).expect("server connection"),
            server_bytes: Vec::new(),
        }
    }

    /// Moves bytes both ways until both handshakes finish or one side fails.
    pub fn handshake(&mut self) -> Result<(), Failed> {
        for _ in 0..20 {
            let to_server = drain(&mut self.client);
            feed(&mut self.server, &to_server).map_err(Failed::Server)?;
            let to_client = drain(&mut self.server);
            self.server_bytes.extend_from_slice(&to_client);
            feed(&mut self.client, &to_client).map_err(Failed::Client)?;
            if !self.client.is_handshaking()
                && !self.server.is_handshaking()
                && !self.client.wants_write()
            {
                return Ok(());
            }
        }
        Err(Failed::Stalled)
    }

    /// Sends `data` from server to client and returns what the client read.
    pub fn server_to_client(&mut self, data: &[u8]) -> Vec<u8> {
        self.server.writer().write_all(data).unwrap();
        let bytes = drain(&mut self.server);
        self.server_bytes.extend_from_slice(&bytes);
        feed(&mut self.client, &bytes).unwrap();
        let mut out = Vec::new();
        let _ = self.client.reader().read_to_end(&mut out);
        out
    }

    /// Sends `data` from client to server and returns what the server read.
    pub fn client_to_server(&mut self, data: &[u8]) -> Vec<u8> {
        self.client.writer().write_all(data).unwrap();
        let bytes = drain(&mut self.client);
        feed(&mut self.server, &bytes).unwrap();
        let mut out = Vec::new();
        let _ = self.server.reader().read_to_end(&mut out);
        out
    }
}

pub fn handshake(
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
    name: &str,
) -> Result<Pair, Failed> {
    let mut pair = Pair::new(client, server, name);
    pair.handshake().map(|()| pair)
}

fn drain<C, S>(conn: &mut C) -> Vec<u8>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<S>>,
    S: rustls::SideData,
{
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).unwrap();
    }
    out
}

fn feed<C, S>(conn: &mut C, mut bytes: &[u8]) -> Result<(), rustls::Error>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<S>>,
    S: rustls::SideData,
{
    while !bytes.is_empty() {
        conn.read_tls(&mut bytes).unwrap();
        conn.process_new_packets()?;
    }
    Ok(())
}

/// The TLS records in a byte stream: (content type, payload).
pub fn records(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while bytes.len() >= 5 {
        let len = usize::from(u16::from_be_bytes([bytes[3], bytes[4]]));
        out.push((bytes[0], bytes[5..5 + len].to_vec()));
        bytes = &bytes[5 + len..];
    }
    assert!(bytes.is_empty(), "stream ends inside a record");
    out
}

/// Checks that every plaintext (before ChangeCipherSpec) handshake record of a TLS 1.2 server
/// stream holds whole handshake messages and at most `limit` bytes; returns how many there were.
pub fn plaintext_handshake_records_whole(stream: &[u8], limit: usize) -> Result<usize, String> {
    let mut count = 0;
    for (content_type, payload) in records(stream) {
        if content_type == 20 {
            break; // ChangeCipherSpec: the rest is encrypted
        }
        if content_type != 22 {
            continue;
        }
        count += 1;
        if payload.len() > limit {
            return Err(format!("handshake record of {} bytes", payload.len()));
        }
        let mut rest = &payload[..];
        while !rest.is_empty() {
            if rest.len() < 4 {
                return Err("a handshake header split across records".into());
            }
            let len = usize::from(rest[1]) << 16 | usize::from(rest[2]) << 8 | usize::from(rest[3]);
            if 4 + len > rest.len() {
                return Err(format!(
                    "handshake message type {} of {len} bytes split: {} bytes in this record",
                    rest[0],
                    rest.len() - 4
                ));
            }
            rest = &rest[4 + len..];
        }
    }
    Ok(count)
}

/// A TLS 1.2-only client trusting `ca`.
pub fn tls12_client(
    ca: &wasmbed_tls::rustls::pki_types::CertificateDer<'static>,
) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS12])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}
