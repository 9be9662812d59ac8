//! Issue 12, one device-id rule: the gateway answers a HELLO whose id starts with `-` or `.` or
//! contains `..` with ERROR(invalid_device_id) and closes; ids with `.` and `-` elsewhere get a
//! session (`docs/protocol.md`, "The device id rule").

mod support;

use std::time::{Duration, Instant};

use bytes::BytesMut;
use support::{Gateway, device};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_util::codec::Decoder;
use wasmbed_protocol::{ErrorCode, Frame, FrameCodec, Message, PROTOCOL_VERSION};

/// A HELLO with `id` as it would come from a broken device: the encoder refuses to write one.
fn raw_hello(id: &str) -> Vec<u8> {
    let mut body = vec![0x01, 0, 0, 0, 1, PROTOCOL_VERSION, id.len() as u8];
    body.extend_from_slice(id.as_bytes());
    body.push(0);
    let mut wire = u32::try_from(body.len()).unwrap().to_be_bytes().to_vec();
    wire.extend(body);
    wire
}

/// Sends `wire` in a new TLS session and returns the frames the gateway sends until it closes.
async fn answer(gw: &Gateway, wire: &[u8]) -> Vec<Frame> {
    let tcp = TcpStream::connect(gw.tls).await.unwrap();
    let mut stream = TlsConnector::from(support::dev_tls())
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    stream.write_all(wire).await.unwrap();
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        while let Ok(Some(frame)) = codec.decode(&mut buf) {
            frames.push(frame);
        }
        match tokio::time::timeout_at(deadline.into(), stream.read_buf(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return frames,
            Ok(Ok(_)) => {}
            Err(_) => panic!("the gateway did not close; frames so far: {frames:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_ids_follow_the_one_device_id_rule() {
    let gw = Gateway::start(&[]);
    for (id, reason) in [
        ("-x", "device id starts with '.' or '-'"),
        (".x", "device id starts with '.' or '-'"),
        ("a..b", "device id contains \"..\""),
    ] {
        let frames = answer(&gw, &raw_hello(id)).await;
        let [
            Frame {
                id: 1,
                message: Message::Error { code, message },
            },
        ] = &frames[..]
        else {
            panic!("{id:?}: {frames:?}\n{}", gw.log_text());
        };
        assert_eq!(*code, ErrorCode::InvalidDeviceId, "{id:?}: {message}");
        assert!(message.ends_with(reason), "{id:?}: {message}");
    }
    let mut sessions = Vec::new();
    for id in ["a.b", "x-", "x.", "_x"] {
        sessions.push(device(&gw, id).await);
    }
    let mut connected = gw.connected();
    connected.sort();
    assert_eq!(connected, ["_x", "a.b", "x-", "x."], "{}", gw.log_text());
}
