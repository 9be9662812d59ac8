//! Hostile and broken clients against the real binary: each gets the right answer and the
//! device connected the whole time notices nothing.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use support::{Gateway, curl, device};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_util::codec::Decoder;
use wasmbed_client::DeviceClient;
use wasmbed_protocol::{ErrorCode, Frame, FrameCodec, Message, encode_frame};

async fn tls(addr: SocketAddr) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    TlsConnector::from(support::dev_tls())
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap()
}

/// Reads frames until the gateway closes; returns them.
async fn frames_until_close(stream: &mut TlsStream<TcpStream>, limit: Duration) -> Vec<Frame> {
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let deadline = Instant::now() + limit;
    loop {
        while let Ok(Some(frame)) = codec.decode(&mut buf) {
            frames.push(frame);
        }
        let read = tokio::time::timeout_at(deadline.into(), stream.read_buf(&mut buf)).await;
        match read {
            Ok(Ok(0)) | Ok(Err(_)) => return frames,
            Ok(Ok(_)) => {}
            Err(_) => {
                panic!("the gateway did not close within {limit:?}; frames so far: {frames:?}")
            }
        }
    }
}

fn error_code(frames: &[Frame]) -> Option<ErrorCode> {
    frames.iter().find_map(|f| match &f.message {
        Message::Error { code, .. } => Some(*code),
        _ => None,
    })
}

async fn still_fine(gw: &Gateway, witness: &DeviceClient) {
    witness
        .echo(Bytes::from_static(b"still here"))
        .await
        .unwrap_or_else(|e| panic!("the witness device was disturbed: {e}\n{}", gw.log_text()));
    assert!(
        gw.connected().contains(&"witness".to_owned()),
        "{}",
        gw.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_inputs_get_answers_and_disturb_no_other_device() {
    let gw = Gateway::start(&[
        "--handshake-timeout-secs",
        "1",
        "--hello-timeout-secs",
        "1",
        "--heartbeat-interval-secs",
        "2",
        "--http-header-read-timeout-secs",
        "1",
    ]);
    let witness = device(&gw, "witness").await;

    // Plaintext HTTP on the TLS port gets a readable 400.
    let (status, body) = curl(&format!("http://{}/health", gw.tls), "GET", None, &[]);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("TLS port; use https://"), "{body}");
    still_fine(&gw, &witness).await;

    // Random bytes that are not TLS: closed.
    let mut tcp = TcpStream::connect(gw.tls).await.unwrap();
    tcp.write_all(&(1..=64).collect::<Vec<u8>>()).await.unwrap();
    let mut sink = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut sink)).await;
    assert!(closed.is_ok(), "random bytes left the connection open");
    still_fine(&gw, &witness).await;

    // A frame length of 0xFFFFFFFF: ERROR(frame too large), then close, without allocating.
    let mut stream = tls(gw.tls).await;
    stream
        .write_all(&[0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0, 1])
        .await
        .unwrap();
    let frames = frames_until_close(&mut stream, Duration::from_secs(5)).await;
    assert_eq!(
        error_code(&frames),
        Some(ErrorCode::FrameTooLarge),
        "{frames:?}"
    );
    still_fine(&gw, &witness).await;

    // A frame before HELLO: ERROR(unexpected message).
    let mut stream = tls(gw.tls).await;
    let heartbeat = Frame {
        id: 7,
        message: Message::Heartbeat { uptime_ms: 1 },
    };
    stream
        .write_all(&encode_frame(&heartbeat, 4096).unwrap())
        .await
        .unwrap();
    let frames = frames_until_close(&mut stream, Duration::from_secs(5)).await;
    assert_eq!(
        error_code(&frames),
        Some(ErrorCode::UnexpectedMessage),
        "{frames:?}"
    );
    assert_eq!(
        frames[0].id, 7,
        "the ERROR carries the offending frame's id"
    );
    still_fine(&gw, &witness).await;

    // A malformed frame after HELLO: ERROR(malformed frame).
    let mut stream = tls(gw.tls).await;
    let hello = Frame {
        id: 1,
        message: Message::Hello {
            version: 1,
            device_id: "broken".into(),
            firmware_version: String::new(),
        },
    };
    stream
        .write_all(&encode_frame(&hello, 4096).unwrap())
        .await
        .unwrap();
    // HEARTBEAT with a 2-byte payload instead of 4.
    stream
        .write_all(&[0, 0, 0, 7, 0x03, 0, 0, 0, 2, 0xaa, 0xbb])
        .await
        .unwrap();
    let frames = frames_until_close(&mut stream, Duration::from_secs(5)).await;
    assert!(
        matches!(frames[0].message, Message::HelloAck { .. }),
        "{frames:?}"
    );
    assert_eq!(
        error_code(&frames),
        Some(ErrorCode::MalformedFrame),
        "{frames:?}"
    );
    still_fine(&gw, &witness).await;

    // A stalled handshake is closed at the handshake timeout.
    let mut tcp = TcpStream::connect(gw.tls).await.unwrap();
    let started = Instant::now();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut Vec::new()))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed after {:?}",
        started.elapsed()
    );
    still_fine(&gw, &witness).await;

    // A stalled half frame (2 bytes of a length) is closed at the hello timeout with ERROR.
    let mut stream = tls(gw.tls).await;
    stream.write_all(&[0, 0]).await.unwrap();
    let frames = frames_until_close(&mut stream, Duration::from_secs(5)).await;
    assert_eq!(
        error_code(&frames),
        Some(ErrorCode::HelloTimeout),
        "{frames:?}"
    );
    still_fine(&gw, &witness).await;

    // An HTTP client on the TLS port that never finishes its headers is closed at the header
    // read timeout, so it cannot hold a connection permit.
    let mut stream = tls(gw.tls).await;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut Vec::new()))
        .await
        .expect("the stalled HTTP client was not closed");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    still_fine(&gw, &witness).await;

    // A device that vanishes without close_notify is removed at once.
    let crashing = device(&gw, "crashing").await;
    crashing.abort();
    gw.eventually(Duration::from_secs(5), "the crashed device removed", || {
        !gw.connected().contains(&"crashing".to_owned())
    });
    assert!(
        gw.log_text().contains("without close_notify"),
        "{}",
        gw.log_text()
    );
    still_fine(&gw, &witness).await;

    // Handshake failures are counted by class.
    let (_, metrics) = gw.api("GET", "/metrics", None);
    for class in ["plaintext_http", "not_tls", "timeout"] {
        assert!(
            metrics.contains(&format!("wasmbed_handshakes_total{{result=\"{class}\"}} 1")),
            "{class}: {metrics}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_over_the_limit_are_refused_politely() {
    let gw = Gateway::start(&["--max-connections", "2"]);
    let witness = device(&gw, "witness").await;
    let _second = tls(gw.tls).await;
    let mut third = tls(gw.tls).await;
    let frames = frames_until_close(&mut third, Duration::from_secs(5)).await;
    assert_eq!(
        error_code(&frames),
        Some(ErrorCode::Overloaded),
        "{frames:?}"
    );
    match &frames[0].message {
        Message::Error { message, .. } => {
            assert!(message.contains("connection limit of 2"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    still_fine(&gw, &witness).await;
    let (_, metrics) = gw.api("GET", "/metrics", None);
    assert!(
        metrics.contains("wasmbed_connections_refused_total{kind=\"connection_limit\"} 1"),
        "{metrics}"
    );
}
