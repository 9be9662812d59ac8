//! Device sessions against the real binary in dev mode: listing, heartbeats, echo, data,
//! takeover, shutdown, and the TLS port's HTTP and openssl clients.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use support::{Gateway, curl, dev_tls, device, device_options};
use wasmbed_client::{DeviceClient, SessionEnd};
use wasmbed_protocol::GoodbyeReason;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dev_mode_device_is_listed_and_exchanges_echo_and_data() {
    let gw = Gateway::start(&[]);
    let mut dev = device(&gw, "sensor-1").await;
    assert_eq!(gw.connected(), ["sensor-1"]);
    let info = gw.api_json("/devices/sensor-1");
    assert_eq!(info["state"], "connected");
    assert_eq!(info["tls_version"], "TLSv1.3");
    // The standard names, not a library's Debug output (issue 12 item 5).
    let suite = info["cipher_suite"].as_str().unwrap();
    assert!(
        suite.starts_with("TLS13_AES_") || suite == "TLS13_CHACHA20_POLY1305_SHA256",
        "{suite}"
    );

    // Echo from the device and from the API.
    assert!(dev.echo(Bytes::from_static(b"ping")).await.unwrap() < Duration::from_secs(5));
    let (status, body) = gw.api("POST", "/devices/sensor-1/echo", Some(b"hello device"));
    assert_eq!(status, 200, "{body}");
    let echo: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(echo["matches"], true);
    assert!(echo["rtt_us"].as_u64().unwrap() > 0);

    // DATA both ways.
    let (status, body) = gw.api("POST", "/devices/sensor-1/data", Some(b"to the device"));
    assert_eq!(status, 202, "{body}");
    let received = tokio::time::timeout(Duration::from_secs(5), dev.recv_data())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&received[..], b"to the device");
    dev.send_data(Bytes::from_static(b"from the device"))
        .await
        .unwrap();
    gw.eventually(Duration::from_secs(5), "DATA queued", || {
        gw.api_json("/devices/sensor-1")["data_queued"] == 1
    });
    let data = gw.api_json("/devices/sensor-1/data");
    assert_eq!(data["messages"][0]["text"], "from the device");
    assert_eq!(data["messages"][0]["hex"], "66726f6d2074686520646576696365");

    // A payload that cannot fit one frame is refused, and the device stays connected.
    let too_big = vec![b'x'; 4092];
    let (status, body) = gw.api("POST", "/devices/sensor-1/echo", Some(&too_big));
    assert_eq!(status, 413, "{body}");
    let (status, _) = gw.api("POST", "/devices/sensor-1/data", Some(&too_big));
    assert_eq!(status, 413);
    assert_eq!(gw.connected(), ["sensor-1"]);
    // axum's own rejections speak JSON too.
    let (status, body) = gw.api("PUT", "/devices/sensor-1", None);
    assert_eq!(status, 405);
    assert!(body.contains("\"error\""), "{body}");

    // Errors name the problem.
    let (status, body) = gw.api("POST", "/devices/nobody/data", Some(b"x"));
    assert_eq!(status, 404);
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"], "device \"nobody\" is not connected");
    let (status, _) = gw.api("GET", "/nowhere", None);
    assert_eq!(status, 404);

    assert_eq!(dev.goodbye().await, SessionEnd::Left);
    gw.eventually(Duration::from_secs(5), "device gone after GOODBYE", || {
        gw.connected().is_empty()
    });
    assert_eq!(gw.api_json("/devices/sensor-1")["state"], "disconnected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn heartbeats_keep_a_device_listed_and_silence_removes_it() {
    let gw = Gateway::start(&["--heartbeat-interval-secs", "1"]);
    let alive = device(&gw, "alive").await;
    assert_eq!(alive.heartbeat_interval(), Duration::from_secs(1));
    let silent = DeviceClient::connect(
        gw.tls,
        "localhost".try_into().unwrap(),
        dev_tls(),
        device_options("silent").with_heartbeats(false),
    )
    .await
    .unwrap();
    assert_eq!(gw.connected(), ["alive", "silent"]);
    let end = tokio::time::timeout(Duration::from_secs(10), silent.closed())
        .await
        .unwrap();
    assert_eq!(end, SessionEnd::Goodbye(GoodbyeReason::HeartbeatTimeout));
    assert_eq!(gw.connected(), ["alive"]);
    assert_eq!(gw.api_json("/devices/silent")["state"], "unreachable");
    // The heartbeating device stays through more than the 3 intervals that closed the silent
    // one: wait until the gateway has taken heartbeats 4 intervals apart (by the device's
    // uptime), then it must still be listed.
    let uptime = || gw.api_json("/devices/alive")["uptime_ms"].as_u64();
    let first = uptime().expect("a heartbeat was taken before the silent device was closed");
    gw.eventually(
        Duration::from_secs(20),
        "heartbeats 4 intervals after the first",
        || uptime().is_some_and(|now| now >= first + 4_000),
    );
    assert_eq!(gw.connected(), ["alive"]);
    alive.goodbye().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_newest_session_takes_over() {
    let gw = Gateway::start(&[]);
    let first = device(&gw, "twin").await;
    let first_session = gw.api_json("/devices/twin")["session_id"].as_u64().unwrap();
    let second = device(&gw, "twin").await;
    let end = tokio::time::timeout(Duration::from_secs(5), first.closed())
        .await
        .unwrap();
    assert_eq!(end, SessionEnd::Goodbye(GoodbyeReason::TakenOver));
    assert_eq!(gw.connected(), ["twin"]);
    let info = gw.api_json("/devices/twin");
    assert_eq!(info["state"], "connected");
    assert_ne!(info["session_id"].as_u64().unwrap(), first_session);
    second.echo(Bytes::from_static(b"still me")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sighup_in_dev_mode_changes_nothing() {
    let mut gw = Gateway::start(&[]);
    let dev = device(&gw, "calm").await;
    gw.signal("HUP");
    gw.wait_for_log("nothing to reload in dev mode", Duration::from_secs(5));
    dev.echo(Bytes::from_static(b"still up")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_says_goodbye_to_devices_and_exits() {
    let mut gw = Gateway::start(&["--shutdown-grace-secs", "5"]);
    let dev = device(&gw, "leaving").await;
    gw.signal("TERM");
    let end = tokio::time::timeout(Duration::from_secs(5), dev.closed())
        .await
        .unwrap();
    assert_eq!(end, SessionEnd::Goodbye(GoodbyeReason::Shutdown));
    assert_eq!(gw.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(gw.log_text().contains("gateway stopped"));
}

#[test]
fn curl_and_openssl_on_the_tls_port() {
    let gw = Gateway::start(&[]);
    let url = format!("https://{}/health", gw.tls);
    for flags in [
        &["-k"][..],
        &["-k", "--http1.1"],
        &["-k", "--http1.1", "--no-alpn"],
        &["-k", "--http2"],
    ] {
        let (status, body) = curl(&url, "GET", None, flags);
        assert_eq!(status, 200, "curl {flags:?}: {body}");
        let health: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(health["status"], "ok");
        assert_eq!(health["mode"], "dev");
    }
    // The device API is not served on the device port.
    let (status, body) = curl(&format!("https://{}/devices", gw.tls), "GET", None, &["-k"]);
    assert_eq!(status, 404, "{body}");

    let out = Command::new("openssl")
        .args(["s_client", "-connect", &gw.tls.to_string(), "-brief"])
        .stdin(Stdio::null())
        .output()
        .expect("openssl is installed");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("CONNECTION ESTABLISHED"), "{text}");
    assert!(text.contains("Protocol version: TLSv1.3"), "{text}");
}

/// `/metrics` serves prometheus-client's OpenMetrics text unchanged to every scraper, whatever
/// it accepts (issue 12: metrics encoded without rewriting another library's text output), and
/// Python's OpenMetrics parser reads it.
#[test]
fn metrics_are_openmetrics_for_every_scraper() {
    let gw = Gateway::start(&[]);
    let _ = curl(&format!("https://{}/health", gw.tls), "GET", None, &["-k"]);
    let url = format!("http://{}/metrics", gw.api);
    let mut texts = Vec::new();
    for accept in [
        None,
        Some("Accept: text/plain;version=0.0.4"),
        Some("Accept: application/openmetrics-text; version=1.0.0"),
    ] {
        let headers: Vec<&str> = accept.map(|h| vec!["-H", h]).unwrap_or_default();
        let content_type = [
            headers.as_slice(),
            &["-o", "/dev/null", "-w", "%{content_type}\n%{http_code}"],
        ]
        .concat();
        let (status, content_type) = curl(&url, "GET", None, &content_type);
        assert_eq!(status, 200);
        assert_eq!(
            content_type, "application/openmetrics-text; version=1.0.0; charset=utf-8",
            "{accept:?}"
        );
        let (status, text) = curl(&url, "GET", None, &headers);
        assert_eq!(status, 200);
        assert!(text.trim_end().ends_with("# EOF"), "{text}");
        texts.push(("prometheus_client.openmetrics.parser", text));
    }
    for (parser, text) in texts {
        let script = format!(
            r#"
import sys
from {parser} import text_string_to_metric_families
families = {{f.name: f for f in text_string_to_metric_families(sys.stdin.read())}}
for name in ["wasmbed_sessions_active", "wasmbed_handshakes", "wasmbed_handshake_duration_seconds",
             "wasmbed_connections_active"]:
    assert name in families, (name, sorted(families))
assert families["wasmbed_handshakes"].type == "counter", families["wasmbed_handshakes"]
assert families["wasmbed_handshake_duration_seconds"].type == "histogram"
ok = [s for s in families["wasmbed_handshakes"].samples if s.labels.get("result") == "ok"]
assert ok and ok[0].value >= 1, families["wasmbed_handshakes"].samples
"#
        );
        let mut child = Command::new("python3")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{parser} could not parse /metrics (pip install prometheus_client):\n{}\n{text}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Sessions start with small buffers and replay the bytes read before the session began
/// (issue 7: an idle session took 35 KB): frames sent together with HELLO, in one TLS record,
/// are all answered, and a frame far larger than the initial buffer still goes through.
#[tokio::test]
async fn frames_pipelined_with_hello_and_large_frames_are_answered() {
    use futures_util::{SinkExt, StreamExt};
    use tokio::io::AsyncWriteExt;
    use tokio_util::codec::Framed;
    use wasmbed_protocol::{
        DEFAULT_MAX_FRAME_LEN, Frame, FrameCodec, Message, PROTOCOL_VERSION, encode_frame,
    };

    let gateway = Gateway::start(&[]);
    let tcp = tokio::net::TcpStream::connect(gateway.tls).await.unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(dev_tls())
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    let frames = [
        Message::Hello {
            version: PROTOCOL_VERSION,
            device_id: "pipelined".into(),
            firmware_version: "1".into(),
        },
        Message::Heartbeat { uptime_ms: 5 },
        Message::Echo(Bytes::from_static(b"right behind hello")),
    ];
    let mut bytes = Vec::new();
    for (id, message) in frames.into_iter().enumerate() {
        let frame = Frame {
            id: id as u32 + 1,
            message,
        };
        bytes.extend_from_slice(&encode_frame(&frame, DEFAULT_MAX_FRAME_LEN).unwrap());
    }
    tls.write_all(&bytes).await.unwrap();
    tls.flush().await.unwrap();
    let mut stream = Framed::new(tls, FrameCodec::new(DEFAULT_MAX_FRAME_LEN));
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("an answer within 10 s")
            .unwrap()
            .unwrap()
    };
    assert!(matches!(next().await.message, Message::HelloAck { .. }));
    assert_eq!(
        next().await,
        Frame {
            id: 2,
            message: Message::HeartbeatAck
        }
    );
    assert_eq!(
        next().await,
        Frame {
            id: 3,
            message: Message::EchoReply(Bytes::from_static(b"right behind hello"))
        }
    );
    let large = Bytes::from(vec![0x5a; DEFAULT_MAX_FRAME_LEN as usize - 5]);
    stream
        .send(Frame {
            id: 4,
            message: Message::Echo(large.clone()),
        })
        .await
        .unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        reply,
        Frame {
            id: 4,
            message: Message::EchoReply(large)
        }
    );
}
