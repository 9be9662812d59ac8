//! The firmware's session state machine against a scripted gateway: a rustls server in the
//! test (the gateway's own TLS configuration) that sends what each case needs — no HELLO_ACK,
//! silence after it, ERROR, GOODBYE, a malformed frame, a frame only devices send — to the
//! real `wasmbed-device` (mbedTLS), and checks what the device sends back and logs.

#[path = "support/device.rs"]
mod device_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use device_support::{Device, write_file};
use wasmbed_endpoint::{Endpoint, MemoryImage};
use wasmbed_protocol::{
    ErrorCode, Frame, GoodbyeReason, Message, PROTOCOL_VERSION, decode_frame, encode_frame,
};
use wasmbed_tls::rustls::{ServerConfig, ServerConnection, StreamOwned};
use wasmbed_tls::{CertResolver, CertificateOptions, ServerOptions, dev_gateway, server_config};

const WAIT: Duration = Duration::from_secs(20);
const MAX_FRAME_LEN: u32 = 4096;

type Tls = StreamOwned<ServerConnection, TcpStream>;

fn tls_config() -> Arc<ServerConfig> {
    let names = ["127.0.0.1".parse().unwrap()];
    let identity = dev_gateway(&names, &CertificateOptions::default()).unwrap();
    let options = ServerOptions::default();
    server_config(Arc::new(CertResolver::new(&identity, &options).unwrap())).unwrap()
}

/// Reads one whole frame (or None at the end of the stream).
fn read_frame(tls: &mut Tls, buf: &mut Vec<u8>) -> Option<Frame> {
    loop {
        if let Some((frame, used)) =
            decode_frame(buf, MAX_FRAME_LEN).expect("the device sends valid frames")
        {
            buf.drain(..used);
            return Some(frame);
        }
        let mut chunk = [0u8; 4096];
        match tls.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn send(tls: &mut Tls, frame: &Frame) {
    tls.write_all(&encode_frame(frame, MAX_FRAME_LEN).unwrap())
        .unwrap();
    tls.flush().unwrap();
}

fn hello_ack(id: u32, heartbeat_interval_secs: u16) -> Frame {
    Frame {
        id,
        message: Message::HelloAck {
            version: PROTOCOL_VERSION,
            heartbeat_interval_secs,
            max_frame_len: MAX_FRAME_LEN,
        },
    }
}

/// A one-connection gateway: accepts, completes the handshake, reads the HELLO, then runs
/// `script`; sends everything the device sent (HELLO first) back to the test.
fn scripted_gateway(
    script: impl FnOnce(&mut Tls, &mut Vec<u8>, u32) + Send + 'static,
) -> (SocketAddr, mpsc::Receiver<Frame>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let config = tls_config();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(WAIT)).unwrap();
        let mut tls = StreamOwned::new(ServerConnection::new(config).unwrap(), tcp);
        let mut buf = Vec::new();
        let hello = read_frame(&mut tls, &mut buf).expect("HELLO");
        let hello_id = hello.id;
        tx.send(hello).unwrap();
        script(&mut tls, &mut buf, hello_id);
        while let Some(frame) = read_frame(&mut tls, &mut buf) {
            if tx.send(frame).is_err() {
                break;
            }
        }
    });
    (addr, rx)
}

fn start_device(addr: SocketAddr, dir: &std::path::Path, extra: &[&str]) -> Device {
    let endpoint: Endpoint = addr.to_string().parse().unwrap();
    let lines = MemoryImage::encode(&endpoint)
        .unwrap()
        .sysbus_script(0x2000_1000)
        .unwrap();
    let resc = write_file(dir, "device.resc", lines);
    let mut args = vec!["--resc", resc.to_str().unwrap(), "--device-id", "scripted"];
    // Long enough that each test sees one session only, unless the test sets its own.
    for flag in ["--backoff-min-ms", "--backoff-max-ms"] {
        if !extra.contains(&flag) {
            args.extend([flag, "60000"]);
        }
    }
    args.extend_from_slice(extra);
    Device::start(&args)
}

fn expect_hello(rx: &mpsc::Receiver<Frame>) {
    let hello = rx.recv_timeout(WAIT).expect("a HELLO");
    assert_eq!(hello.id, 1);
    assert_eq!(
        hello.message,
        Message::Hello {
            version: PROTOCOL_VERSION,
            device_id: "scripted".into(),
            firmware_version: "0.1.0".into(),
        }
    );
}

/// The reason of the first GOODBYE the device sends (frames before it are skipped).
fn device_goodbye(rx: &mpsc::Receiver<Frame>, device: &Device) -> GoodbyeReason {
    loop {
        let frame = rx
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("no GOODBYE from the device:\n{}", device.log_text()));
        if let Message::Goodbye { reason } = frame.message {
            return reason;
        }
    }
}

#[test]
fn no_hello_ack_ends_the_session_at_the_hello_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, rx) = scripted_gateway(|_, _, _| {});
    let device = start_device(addr, dir.path(), &["--hello-timeout-ms", "300"]);
    expect_hello(&rx);
    device.wait_for_log("No HELLO_ACK within 300 ms of HELLO", WAIT);
    device.wait_for_log("Session ended: no HELLO_ACK in time", WAIT);
    device.wait_for_log("Reconnecting in", WAIT);
}

#[test]
fn heartbeats_follow_the_interval_and_silence_ends_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, rx) = scripted_gateway(|tls, _, hello_id| {
        // Accept, then never answer again: the device heartbeats every second and gives up
        // after 3 silent intervals.
        send(tls, &hello_ack(hello_id, 1));
    });
    let device = start_device(addr, dir.path(), &[]);
    expect_hello(&rx);
    // The sample application's status DATA, then heartbeats with rising uptime and ids.
    let status = rx.recv_timeout(WAIT).unwrap();
    assert!(matches!(status.message, Message::Data(_)), "{status:?}");
    let mut last = (0u32, 0u32);
    for _ in 0..2 {
        let frame = rx.recv_timeout(WAIT).unwrap();
        let Message::Heartbeat { uptime_ms } = frame.message else {
            panic!("expected HEARTBEAT, got {frame:?}");
        };
        assert!(
            frame.id > last.0 && uptime_ms >= last.1,
            "{frame:?} after {last:?}"
        );
        last = (frame.id, uptime_ms);
    }
    device.wait_for_log("Nothing from the gateway for", WAIT);
    device.wait_for_log("(3 heartbeat intervals)", WAIT);
    device.wait_for_log(
        "Session ended: gateway silent for 3 heartbeat intervals",
        WAIT,
    );
}

#[test]
fn error_and_goodbye_from_the_gateway_end_the_session_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, rx) = scripted_gateway(|tls, _, hello_id| {
        send(
            tls,
            &Frame {
                id: hello_id,
                message: Message::Error {
                    code: ErrorCode::DeviceIdMismatch,
                    message: "certificate CN is sensor-9".into(),
                },
            },
        );
    });
    let device = start_device(addr, dir.path(), &[]);
    expect_hello(&rx);
    device.wait_for_log(
        "Gateway sent ERROR 6 (device id does not match the client certificate): certificate CN is sensor-9",
        WAIT,
    );
    device.wait_for_log("Session ended: ERROR from the gateway", WAIT);

    let dir = tempfile::tempdir().unwrap();
    let (addr, rx) = scripted_gateway(|tls, _, hello_id| {
        send(tls, &hello_ack(hello_id, 30));
        send(
            tls,
            &Frame {
                id: 7,
                message: Message::Goodbye {
                    reason: GoodbyeReason::TakenOver,
                },
            },
        );
    });
    let device = start_device(addr, dir.path(), &[]);
    expect_hello(&rx);
    device.wait_for_log(
        "Gateway said GOODBYE: taken over by a newer session with the same device id (reason 2)",
        WAIT,
    );
    device.wait_for_log("Session ended: GOODBYE from the gateway", WAIT);
}

#[test]
fn a_malformed_frame_gets_goodbye_protocol_error() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, rx) = scripted_gateway(|tls, _, hello_id| {
        send(tls, &hello_ack(hello_id, 30));
        // Length 2: below the 5-byte minimum.
        tls.write_all(&[0, 0, 0, 2, 0x04, 0]).unwrap();
        tls.flush().unwrap();
    });
    let device = start_device(addr, dir.path(), &[]);
    expect_hello(&rx);
    assert_eq!(device_goodbye(&rx, &device), GoodbyeReason::ProtocolError);
    device.wait_for_log("Gateway sent a frame this device cannot decode", WAIT);
    device.wait_for_log("Session ended: protocol error", WAIT);
}

#[test]
fn a_device_to_gateway_message_from_the_gateway_is_a_protocol_error() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, rx) = scripted_gateway(|tls, _, hello_id| {
        send(tls, &hello_ack(hello_id, 30));
        send(
            tls,
            &Frame {
                id: 9,
                message: Message::Heartbeat { uptime_ms: 1 },
            },
        );
    });
    let device = start_device(addr, dir.path(), &[]);
    expect_hello(&rx);
    assert_eq!(device_goodbye(&rx, &device), GoodbyeReason::ProtocolError);
    device.wait_for_log(
        "Gateway broke the protocol: a device-to-gateway message (frame type 0x03)",
        WAIT,
    );
}

#[test]
fn echo_and_data_from_the_gateway_are_answered_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, rx) = scripted_gateway(|tls, _, hello_id| {
        send(tls, &hello_ack(hello_id, 30));
        for (id, message) in [
            (100, Message::Echo(vec![1u8, 2, 3].into())),
            (101, Message::Data(b"first".to_vec().into())),
            (102, Message::Echo(Vec::new().into())),
            (103, Message::Data(vec![0xabu8; 4091].into())),
        ] {
            send(tls, &Frame { id, message });
        }
    });
    let device = start_device(addr, dir.path(), &[]);
    expect_hello(&rx);
    let mut answers = Vec::new();
    while answers.len() < 5 {
        let frame = rx
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("{}", device.log_text()));
        if !matches!(frame.message, Message::Heartbeat { .. }) {
            answers.push(frame);
        }
    }
    assert!(
        matches!(answers[0].message, Message::Data(_)),
        "status DATA first"
    );
    assert_eq!(answers[1].id, 100);
    assert_eq!(
        answers[1].message,
        Message::EchoReply(vec![1u8, 2, 3].into())
    );
    assert_eq!(answers[2].message, Message::Data(b"first".to_vec().into()));
    assert_eq!(answers[3].id, 102);
    assert_eq!(answers[3].message, Message::EchoReply(Vec::new().into()));
    // The largest payload a 4096-byte frame carries, through 1500-byte records both ways.
    assert_eq!(answers[4].message, Message::Data(vec![0xabu8; 4091].into()));
}

#[test]
fn a_gateway_that_stops_reading_ends_the_session_at_the_send_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, rx) = scripted_gateway(|tls, _, hello_id| {
        send(tls, &hello_ack(hello_id, 30));
        // Flood DATA, which the device returns, and never read: its sends must stop.
        tls.get_ref()
            .set_write_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let data = encode_frame(
            &Frame {
                id: 1000,
                message: Message::Data(vec![0x5au8; 4091].into()),
            },
            MAX_FRAME_LEN,
        )
        .unwrap();
        while tls.write_all(&data).and_then(|()| tls.flush()).is_ok() {}
    });
    let device = start_device(addr, dir.path(), &["--send-timeout-ms", "500"]);
    expect_hello(&rx);
    device.wait_for_log(
        "the gateway accepted nothing within the send timeout (it is not reading)",
        WAIT,
    );
    device.wait_for_log("Session ended: I/O error", WAIT);
}

#[test]
fn a_trickle_of_bytes_is_not_a_sign_of_life() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, rx) = scripted_gateway(|tls, _, hello_id| {
        send(tls, &hello_ack(hello_id, 1));
        // The start of a 3000-byte frame, then one more byte every half second.
        tls.write_all(&[0, 0, 0x0b, 0xb8, 0x07]).unwrap();
        tls.flush().unwrap();
        for _ in 0..20 {
            thread::sleep(Duration::from_millis(500));
            if tls.write_all(&[0]).and_then(|()| tls.flush()).is_err() {
                break;
            }
        }
    });
    let device = start_device(addr, dir.path(), &[]);
    expect_hello(&rx);
    device.wait_for_log(
        "Session ended: gateway silent for 3 heartbeat intervals",
        WAIT,
    );
}

#[test]
fn a_hello_ack_without_room_for_a_heartbeat_is_a_protocol_error() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, rx) = scripted_gateway(|tls, _, hello_id| {
        send(
            tls,
            &Frame {
                id: hello_id,
                message: Message::HelloAck {
                    version: PROTOCOL_VERSION,
                    heartbeat_interval_secs: 30,
                    max_frame_len: 5,
                },
            },
        );
    });
    let device = start_device(addr, dir.path(), &[]);
    expect_hello(&rx);
    let goodbye = rx.recv_timeout(WAIT).expect("GOODBYE");
    assert_eq!(
        goodbye.message,
        Message::Goodbye {
            reason: GoodbyeReason::ProtocolError
        }
    );
    device.wait_for_log(
        "Gateway max_frame_len 5 is below the 9 bytes of a HEARTBEAT",
        WAIT,
    );
}

#[test]
fn taken_over_waits_the_longest_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, rx) = scripted_gateway(|tls, _, hello_id| {
        send(tls, &hello_ack(hello_id, 30));
        send(
            tls,
            &Frame {
                id: 2,
                message: Message::Goodbye {
                    reason: GoodbyeReason::TakenOver,
                },
            },
        );
    });
    let device = start_device(
        addr,
        dir.path(),
        &["--backoff-min-ms", "100", "--backoff-max-ms", "40000"],
    );
    expect_hello(&rx);
    device.wait_for_log("Another session uses device id \"scripted\"", WAIT);
    let line = device.wait_for_log("Reconnecting in", WAIT);
    let delay: u64 = line
        .split("Reconnecting in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!((20_000..=40_000).contains(&delay), "{line}");
}

#[test]
fn credentials_revoked_waits_the_longest_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, rx) = scripted_gateway(|tls, _, hello_id| {
        send(tls, &hello_ack(hello_id, 30));
        send(
            tls,
            &Frame {
                id: 2,
                message: Message::Goodbye {
                    reason: GoodbyeReason::CredentialsRevoked,
                },
            },
        );
    });
    let device = start_device(
        addr,
        dir.path(),
        &["--backoff-min-ms", "100", "--backoff-max-ms", "40000"],
    );
    expect_hello(&rx);
    device.wait_for_log("no longer accepts this device's certificate", WAIT);
    let line = device.wait_for_log("Reconnecting in", WAIT);
    let delay: u64 = line
        .split("Reconnecting in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!((20_000..=40_000).contains(&delay), "{line}");
}
