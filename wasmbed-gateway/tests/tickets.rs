//! Issue 11, item 3: the NewSessionTicket messages the gateway sends after a TLS 1.3
//! handshake fit one device record, so mbedTLS before 3.6.3 (which fails with -0x7080 on a
//! handshake message split across records) keeps its session, and resumption still works.
//!
//! A TCP proxy between a rustls device and the real gateway notes every record header in the
//! order it passes; the records the gateway sends after the device's first encrypted record
//! (its Finished flight) are the tickets and then HELLO_ACK.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use support::{Gateway, make_pki, pki_device};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Framed;
use wasmbed_protocol::{Frame, FrameCodec, Message, PROTOCOL_VERSION};
use wasmbed_tls::rustls::{self, ClientConfig, HandshakeKind, RootCertStore};
use wasmbed_tls::{Identity, load_certificates};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum From {
    Device,
    Gateway,
}

/// (who sent it, content type, length of the record body).
type Record = (From, u8, usize);

/// The record headers of each connection through the proxy, in order.
type Log = Arc<Mutex<Vec<Vec<Record>>>>;

/// Forwards connections to `upstream`, noting every record header in the log.
async fn proxy(upstream: SocketAddr) -> (SocketAddr, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let shared = log.clone();
    tokio::spawn(async move {
        while let Ok((device, _)) = listener.accept().await {
            let gateway = TcpStream::connect(upstream).await.unwrap();
            let connection = {
                let mut log = shared.lock().unwrap();
                log.push(Vec::new());
                log.len() - 1
            };
            let (device_read, device_write) = device.into_split();
            let (gateway_read, gateway_write) = gateway.into_split();
            tokio::spawn(pipe(
                From::Device,
                device_read,
                gateway_write,
                shared.clone(),
                connection,
            ));
            tokio::spawn(pipe(
                From::Gateway,
                gateway_read,
                device_write,
                shared.clone(),
                connection,
            ));
        }
    });
    (addr, log)
}

async fn pipe(
    from: From,
    mut read: tokio::net::tcp::OwnedReadHalf,
    mut write: tokio::net::tcp::OwnedWriteHalf,
    log: Log,
    connection: usize,
) {
    let mut pending = Vec::new();
    let mut buf = [0u8; 16_384];
    loop {
        let n = match read.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        // Noted before forwarding, so the log's order is the order the peers could act in.
        while pending.len() >= 5 {
            let len = usize::from(u16::from_be_bytes([pending[3], pending[4]]));
            if pending.len() < 5 + len {
                break;
            }
            log.lock().unwrap()[connection].push((from, pending[0], len));
            pending.drain(..5 + len);
        }
        if write.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

fn client(dir: &Path, device: Option<&Identity>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for root in load_certificates(&dir.join("ca/ca.pem")).unwrap() {
        roots.add(root).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots);
    Arc::new(match device {
        Some(device) => builder
            .with_client_auth_cert(device.chain().to_vec(), device.key().clone_key())
            .unwrap(),
        None => builder.with_no_client_auth(),
    })
}

/// Handshake, HELLO, HELLO_ACK through the proxy; returns how the handshake went and the
/// connection's records up to HELLO_ACK.
async fn session(
    addr: SocketAddr,
    log: &Log,
    tls: Arc<ClientConfig>,
    id: &str,
) -> (HandshakeKind, Vec<Record>) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let stream = tokio_rustls::TlsConnector::from(tls)
        .connect("127.0.0.1".try_into().unwrap(), tcp)
        .await
        .unwrap();
    let mut framed = Framed::new(stream, FrameCodec::new(4096));
    framed
        .send(Frame {
            id: 1,
            message: Message::Hello {
                version: PROTOCOL_VERSION,
                device_id: id.to_owned(),
                firmware_version: "1.0.0".to_owned(),
            },
        })
        .await
        .unwrap();
    let ack = framed.next().await.unwrap().unwrap();
    assert!(matches!(ack.message, Message::HelloAck { .. }), "{ack:?}");
    let kind = framed.get_ref().get_ref().1.handshake_kind().unwrap();
    let records = log.lock().unwrap().last().unwrap().clone();
    let _ = SinkExt::<Frame>::close(&mut framed).await;
    (kind, records)
}

/// The records the gateway sent after the device's first encrypted record, up to and
/// including HELLO_ACK (the last one), as plaintext lengths (TLS 1.3: body minus the inner
/// content type and the 16-byte AEAD tag).
fn after_handshake(log: &[Record]) -> Vec<usize> {
    let start = log
        .iter()
        .position(|r| r.0 == From::Device && r.1 == 0x17)
        .expect("the device sent its Finished");
    log[start..]
        .iter()
        .filter(|r| r.0 == From::Gateway && r.1 == 0x17)
        .map(|r| r.2 - 17)
        .collect()
}

/// Checks one session's records: every record fits the device, and the tickets came in one
/// record before HELLO_ACK (so no ticket was split).
fn assert_tickets_fit(log: &[Record], device_max_content_len: usize) {
    let records = after_handshake(log);
    eprintln!("plaintext bytes of the gateway's records after the handshake: {records:?}");
    assert!(
        records.iter().all(|&len| len <= device_max_content_len),
        "{records:?}"
    );
    // rustls fills records to the limit when it splits a flight: the ticket flight must be
    // one record, not full, followed by HELLO_ACK.
    assert_eq!(records.len(), 2, "tickets then HELLO_ACK: {records:?}");
    assert!(records[0] < device_max_content_len, "{records:?}");
}

/// On main the gateway sends two stateless tickets each carrying the device's RSA-2048
/// certificate (about 1,300 bytes each), cut into three records of which two are full: the
/// device's session dies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_fit_a_1024_byte_device_buffer_with_an_rsa_2048_device_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    make_pki(&path, &[]);
    pki_device(
        &path,
        "devices",
        "device-ca",
        "rsa-1",
        &["--algorithm", "rsa2048"],
    );
    let p = |name: &str| path.join(name).to_str().unwrap().to_owned();
    let args = [
        "--cert".to_owned(),
        p("gw/gateway.pem"),
        "--key".to_owned(),
        p("gw/gateway-key.pem"),
        "--client-ca".to_owned(),
        p("devices/device-ca.pem"),
        "--require-client-cert".to_owned(),
        "--device-max-content-len".to_owned(),
        "1024".to_owned(),
    ];
    let mut gw = Gateway::start_in(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    gw.wait_for_log(
        "session resumption: stateful",
        std::time::Duration::from_secs(5),
    );
    let device = Identity::load(
        &path.join("devices/rsa-1.pem"),
        &path.join("devices/rsa-1-key.pem"),
    )
    .unwrap();
    let tls = client(&path, Some(&device));
    let (addr, log) = proxy(gw.tls).await;

    let (kind, records) = session(addr, &log, tls.clone(), "rsa-1").await;
    assert_eq!(kind, HandshakeKind::Full);
    assert_tickets_fit(&records, 1024);
    let (kind, records) = session(addr, &log, tls, "rsa-1").await;
    assert_eq!(kind, HandshakeKind::Resumed);
    assert_tickets_fit(&records, 1024);
}

/// The defaults (1500-byte device buffers, no client certificates): stateless tickets, both
/// in one record, and resumption.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_fit_the_default_device_buffer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    make_pki(&path, &[]);
    let p = |name: &str| path.join(name).to_str().unwrap().to_owned();
    let args = [
        "--cert".to_owned(),
        p("gw/gateway.pem"),
        "--key".to_owned(),
        p("gw/gateway-key.pem"),
    ];
    let mut gw = Gateway::start_in(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    gw.wait_for_log(
        "session resumption: stateless",
        std::time::Duration::from_secs(5),
    );
    let tls = client(&path, None);
    let (addr, log) = proxy(gw.tls).await;
    let (kind, records) = session(addr, &log, tls.clone(), "plain-1").await;
    assert_eq!(kind, HandshakeKind::Full);
    assert_tickets_fit(&records, 1500);
    let (kind, records) = session(addr, &log, tls, "plain-1").await;
    assert_eq!(kind, HandshakeKind::Resumed);
    assert_tickets_fit(&records, 1500);
}

/// `--session-lifetime-secs`: a session older than it is not resumed (a full handshake
/// instead). On main there is no such flag and tickets live up to 12 hours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_older_than_its_lifetime_is_not_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    make_pki(&path, &[]);
    let p = |name: &str| path.join(name).to_str().unwrap().to_owned();
    let args = [
        "--cert".to_owned(),
        p("gw/gateway.pem"),
        "--key".to_owned(),
        p("gw/gateway-key.pem"),
        "--session-lifetime-secs".to_owned(),
        "1".to_owned(),
    ];
    let gw = Gateway::start_in(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let tls = client(&path, None);
    let (addr, log) = proxy(gw.tls).await;
    let (kind, _) = session(addr, &log, tls.clone(), "brief-1").await;
    assert_eq!(kind, HandshakeKind::Full);
    let issued = std::time::Instant::now();
    while issued.elapsed() < std::time::Duration::from_secs(3) {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (kind, _) = session(addr, &log, tls, "brief-1").await;
    assert_eq!(kind, HandshakeKind::Full, "an expired ticket was accepted");
}
