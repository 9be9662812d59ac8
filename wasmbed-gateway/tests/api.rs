//! The HTTP API closed to strangers and bounded (issue 11 item 8): bearer tokens on every
//! device endpoint, a header-read deadline, an idle timeout and connection caps on the API
//! port and on HTTP over the TLS port, and API connections kept out of the descriptors
//! devices need. Every test runs the real binary on loopback.

mod support;

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use support::{Gateway, TEST_API_TOKEN, bin, device, run, write_secret};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A parsed HTTP/1.1 response.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn parse(raw: &[u8]) -> Option<Response> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Some(Response {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// One request on a new connection (`Connection: close`), with an optional `Authorization`
/// value.
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    authorization: Option<&str>,
) -> Response {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let auth = authorization
        .map(|v| format!("Authorization: {v}\r\n"))
        .unwrap_or_default();
    let body = if method == "POST" { "hi" } else { "" };
    let text = format!(
        "{method} {path} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(text.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut raw))
        .await
        .expect("the gateway answers")
        .unwrap();
    parse(&raw).unwrap_or_else(|| panic!("{method} {path}: {:?}", String::from_utf8_lossy(&raw)))
}

/// Reads until the peer closes (EOF or reset) or `limit` passes; `Some(bytes read)` if it
/// closed.
async fn closed_within<S: AsyncRead + Unpin>(stream: &mut S, limit: Duration) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(seen),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// A TLS connection to the device port that asks for HTTP/1.1 by ALPN.
async fn tls_http(addr: SocketAddr) -> tokio_rustls::client::TlsStream<TcpStream> {
    let config =
        wasmbed_tls::danger::insecure_dev_client_config(None, &[b"http/1.1".to_vec()]).unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    TlsConnector::from(config)
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap()
}

const PROTECTED: [(&str, &str); 5] = [
    ("GET", "/devices"),
    ("GET", "/devices/{id}"),
    ("GET", "/devices/{id}/data"),
    ("POST", "/devices/{id}/data"),
    ("POST", "/devices/{id}/echo"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_device_endpoint_needs_the_bearer_token_and_reveals_nothing_without_it() {
    let gw = Gateway::start(&[]);
    let _known = device(&gw, "known").await;
    let token = gw.token.clone().expect("dev mode makes a token");
    let good = format!("Bearer {token}");
    let wrong = format!("Bearer {}", "x".repeat(token.len()));

    for (method, template) in PROTECTED {
        let mut bodies = Vec::new();
        for id in ["known", "unknown"] {
            let path = template.replace("{id}", id);
            let missing = request(gw.api, method, &path, None).await;
            assert_eq!(missing.status, 401, "{method} {path}: {missing:?}");
            assert_eq!(
                missing.header("www-authenticate"),
                Some(r#"Bearer realm="wasmbed""#)
            );
            let error: serde_json::Value = serde_json::from_str(&missing.body).unwrap();
            assert!(
                error["error"].as_str().unwrap().contains("Bearer"),
                "{error}"
            );

            let refused = request(gw.api, method, &path, Some(&wrong)).await;
            assert_eq!(refused.status, 401, "{method} {path}: {refused:?}");
            assert_eq!(
                refused.header("www-authenticate"),
                Some(r#"Bearer realm="wasmbed", error="invalid_token""#)
            );
            let basic = request(gw.api, method, &path, Some("Basic dXNlcjpwYXNz")).await;
            assert_eq!(basic.status, 401, "{method} {path}: {basic:?}");
            bodies.push((missing.body, refused.body));

            let answered = request(gw.api, method, &path, Some(&good)).await;
            let expected: &[u16] = match (id, method, template) {
                (_, "GET", "/devices") => &[200],
                ("known", "POST", "/devices/{id}/data") => &[202],
                ("known", _, _) => &[200],
                _ => &[404],
            };
            assert!(
                expected.contains(&answered.status),
                "{method} {path} with the token: {answered:?}"
            );
        }
        assert_eq!(bodies[0], bodies[1], "{method} {template}");
    }
    // The check runs before routing: an unknown path says nothing either.
    assert_eq!(request(gw.api, "GET", "/nowhere", None).await.status, 401);
    // The scheme name is case-insensitive (RFC 9110 section 11.1).
    let lower = format!("bearer {token}");
    assert_eq!(
        request(gw.api, "GET", "/devices", Some(&lower))
            .await
            .status,
        200
    );

    for path in ["/health", "/ready", "/metrics"] {
        let open = request(gw.api, "GET", path, None).await;
        assert_eq!(open.status, 200, "{path}: {open:?}");
    }
    // Dozens of refusals from one address, one log line.
    let lines = gw
        .log_text()
        .lines()
        .filter(|l| l.contains("API request refused: no valid bearer token"))
        .count();
    assert_eq!(lines, 1, "{}", gw.log_text());

    use std::os::unix::fs::PermissionsExt as _;
    let file = gw.dir.path().join("state/api-token");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(token.len(), 64);
    assert!(
        gw.log_text()
            .contains("curl -H \"Authorization: Bearer $(cat ")
    );
}

/// A CA and a gateway certificate for 127.0.0.1 in `dir/pki`; returns the serve arguments.
fn production_pki(dir: &std::path::Path) -> Vec<String> {
    for args in [
        &["pki", "ca", "--out-dir", "pki"][..],
        &[
            "pki",
            "gateway",
            "--ca-cert",
            "pki/ca.pem",
            "--ca-key",
            "pki/ca-key.pem",
            "--san",
            "127.0.0.1",
            "--out-dir",
            "pki",
        ],
    ] {
        let (code, out, err) = run(args, dir);
        assert_eq!(code, 0, "{out}{err}");
    }
    vec![
        "--cert".into(),
        dir.join("pki/gateway.pem").display().to_string(),
        "--key".into(),
        dir.join("pki/gateway-key.pem").display().to_string(),
    ]
}

#[test]
fn production_refuses_to_start_without_a_usable_token_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = production_pki(dir.path());
    args.extend(["--tls-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let (code, _, err) = run(&args, dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("required arguments were not provided")
            && err.contains("--api-token-file")
            && err.contains("--insecure-api-no-auth"),
        "{err}"
    );

    for (content, says) in [
        ("", "is empty"),
        ("short\n", "is 5 characters long"),
        (
            "two words and more that make it long enough\n",
            "outside the allowed set",
        ),
    ] {
        let file = dir.path().join("token");
        write_secret(&file, content);
        let mut with_file = args.clone();
        with_file.extend(["--api-token-file", "token"]);
        let (code, _, err) = run(&with_file, dir.path());
        assert_eq!(code, 1, "{content:?}: {err}");
        assert!(
            err.contains("cannot use --api-token-file") && err.contains(says),
            "{content:?}: {err}"
        );
    }
    let mut missing = args.clone();
    missing.extend(["--api-token-file", "nope"]);
    let (code, _, err) = run(&missing, dir.path());
    assert_eq!(code, 1);
    assert!(err.contains("cannot read the API token file nope"), "{err}");
}

#[test]
fn insecure_api_no_auth_is_asked_for_by_name_and_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = production_pki(dir.path());
    args.push("--insecure-api-no-auth".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let gw = Gateway::start_in(dir, &args);
    assert!(gw.token.is_none());
    assert!(
        gw.log_text().contains("WARN") && gw.log_text().contains("NO AUTHENTICATION"),
        "{}",
        gw.log_text()
    );
    let (status, body) = gw.api("GET", "/devices", None);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn insecure_api_no_auth_set_to_false_in_the_environment_is_not_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = production_pki(dir.path());
    let token = dir.path().join("token");
    write_secret(&token, TEST_API_TOKEN);
    args.extend(["--api-token-file".into(), token.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    // Asking for both at once is a contradiction, named as such.
    let out = Command::new(bin())
        .args(&args)
        .args(["--tls-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0"])
        .env("WASMBED_GATEWAY_INSECURE_API_NO_AUTH", "true")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot be used with")
            && err.contains("--api-token-file")
            && err.contains("--insecure-api-no-auth"),
        "{err}"
    );

    // A systemd environment file that spells out the default must not stop the gateway.
    let mut command = Command::new(bin());
    command.env("WASMBED_GATEWAY_INSECURE_API_NO_AUTH", "false");
    let gw = Gateway::start_command(dir, command, &args, "info");
    let (status, _) = gw.api_with("GET", "/devices", None, &[]);
    assert_eq!(status, 401);
    let (status, body) = gw.api("GET", "/devices", None);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn sighup_rereads_the_token_file_and_a_bad_one_keeps_the_current_token() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = production_pki(dir.path());
    let file = dir.path().join("api-token");
    std::fs::write(&file, format!("{TEST_API_TOKEN}\n")).unwrap();
    args.extend(["--api-token-file".into(), file.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut gw = Gateway::start_in(dir, &args);
    // std::fs::write leaves the file 0644.
    assert!(
        gw.log_text()
            .contains("the API token file is readable by other users"),
        "{}",
        gw.log_text()
    );
    let status = |gw: &Gateway, token: &str| {
        let header = format!("Authorization: Bearer {token}");
        gw.api_with("GET", "/devices", None, &["-H", &header]).0
    };
    assert_eq!(status(&gw, TEST_API_TOKEN), 200);

    let rotated = "rotated-0123456789abcdef0123456789abcdef";
    write_secret(&file, rotated);
    gw.signal("HUP");
    gw.eventually(Duration::from_secs(10), "the new token works", || {
        status(&gw, rotated) == 200
    });
    assert_eq!(status(&gw, TEST_API_TOKEN), 401);

    write_secret(&file, "bad token\n");
    gw.signal("HUP");
    gw.wait_for_log("API token reload failed", Duration::from_secs(10));
    assert_eq!(status(&gw, rotated), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_dribbles_its_headers_is_closed_at_the_header_deadline() {
    let gw = Gateway::start(&[
        "--http-header-read-timeout-secs",
        "1",
        "--http-idle-timeout-secs",
        "600",
        "--hello-timeout-secs",
        "600",
    ]);
    for port in ["api", "tls"] {
        let (mut reader, mut writer): (
            Box<dyn AsyncRead + Unpin + Send>,
            Box<dyn AsyncWrite + Unpin + Send>,
        ) = if port == "api" {
            let (r, w) = TcpStream::connect(gw.api).await.unwrap().into_split();
            (Box::new(r), Box::new(w))
        } else {
            let (r, w) = tokio::io::split(tls_http(gw.tls).await);
            (Box::new(r), Box::new(w))
        };
        let closed =
            tokio::spawn(async move { closed_within(&mut reader, Duration::from_secs(8)).await });
        writer
            .write_all(b"GET /health HTTP/1.1\r\nHost: gw\r\n")
            .await
            .unwrap();
        // One header line every 100 ms: bytes keep coming, the headers never end.
        for i in 0.. {
            if closed.is_finished() {
                break;
            }
            let line = format!("X-Slow-{i}: {}\r\n", "a".repeat(8));
            if writer.write_all(line.as_bytes()).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            if i > 100 {
                break;
            }
        }
        let seen = closed
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{port}: the slow client is still connected"));
        assert!(
            !String::from_utf8_lossy(&seen).contains("200 OK"),
            "{port}: {}",
            String::from_utf8_lossy(&seen)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed() {
    let gw = Gateway::start(&[
        "--http-idle-timeout-secs",
        "1",
        "--http-header-read-timeout-secs",
        "600",
    ]);
    for port in ["api", "tls"] {
        let mut stream: Box<dyn Stream> = if port == "api" {
            Box::new(TcpStream::connect(gw.api).await.unwrap())
        } else {
            Box::new(tls_http(gw.tls).await)
        };
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: gw\r\n\r\n")
            .await
            .unwrap();
        let mut raw = Vec::new();
        while parse(&raw).is_none_or(|r| r.body.len() < content_length(&r)) {
            let mut buf = [0u8; 1024];
            let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
                .await
                .expect("an answer")
                .unwrap();
            assert!(n > 0, "{port}: closed before answering");
            raw.extend_from_slice(&buf[..n]);
        }
        assert_eq!(parse(&raw).unwrap().status, 200);
        // Kept alive, then silent: the gateway closes it.
        let rest = closed_within(&mut stream, Duration::from_secs(8)).await;
        assert_eq!(
            rest.as_deref(),
            Some(&[][..]),
            "{port}: the idle connection is still open"
        );
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

fn content_length(response: &Response) -> usize {
    response
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// `GET /health` on an open connection; the status, or `None` if the gateway closed it.
async fn health_on<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) -> Option<u16> {
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
        .await
        .ok()?;
    let seen = closed_within(stream, Duration::from_secs(8))
        .await
        .expect("the gateway closes a Connection: close request");
    parse(&seen).map(|r| r.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_caps_hold_and_devices_still_connect() {
    let gw = Gateway::start(&[
        "--max-api-connections",
        "4",
        "--max-tls-http-connections",
        "2",
        "--http-idle-timeout-secs",
        "600",
        "--http-header-read-timeout-secs",
        "600",
    ]);
    // The API port: four held, the fifth answered 503 and closed.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut tcp = TcpStream::connect(gw.api).await.unwrap();
        // A request and its answer prove the connection holds a slot.
        tcp.write_all(b"GET /ready HTTP/1.1\r\nHost: gw\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        held.push(tcp);
    }
    let mut fifth = TcpStream::connect(gw.api).await.unwrap();
    let status = health_on(&mut fifth).await;
    assert!(matches!(status, None | Some(503)), "{status:?}");

    // The TLS port: two HTTP clients held, the third closed; a device still connects.
    let mut held_tls = Vec::new();
    for _ in 0..2 {
        let mut stream = tls_http(gw.tls).await;
        stream
            .write_all(b"GET /ready HTTP/1.1\r\nHost: gw\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = stream.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        held_tls.push(stream);
    }
    let mut third = tls_http(gw.tls).await;
    assert_eq!(health_on(&mut third).await, None);
    let device = device(&gw, "while-http-is-full").await;
    device
        .echo(bytes::Bytes::from_static(b"still here"))
        .await
        .unwrap();

    // A freed slot serves again.
    drop(held.pop());
    drop(held_tls.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut tcp = TcpStream::connect(gw.api).await.unwrap();
        if health_on(&mut tcp).await == Some(200) {
            break;
        }
        assert!(Instant::now() < deadline, "no API slot freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut stream = tls_http(gw.tls).await;
        if health_on(&mut stream).await == Some(200) {
            break;
        }
        assert!(Instant::now() < deadline, "no TLS-port HTTP slot freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, metrics) = gw.api("GET", "/metrics", None);
    for kind in ["api_connection_limit", "tls_http_connection_limit"] {
        let line = format!("wasmbed_connections_refused_total{{kind=\"{kind}\"}} ");
        let count: u64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{line}: {metrics}"));
        assert!(count >= 1, "{kind}: {metrics}");
    }
}

/// The issue's incident: idle API connections exhausted the process's descriptors and a
/// device hung in connect(). Under an open-file limit of 300, far more API connections than
/// the limit leave room for devices.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_connections_cannot_take_the_descriptors_devices_need() {
    let gw = Gateway::start_with_open_file_limit(
        300,
        &[
            "--max-connections",
            "16",
            "--max-api-connections",
            "8",
            "--http-idle-timeout-secs",
            "600",
            "--http-header-read-timeout-secs",
            "600",
        ],
    );
    assert!(
        gw.log_text().contains("file-descriptor budget fits"),
        "{}",
        gw.log_text()
    );
    let mut idle = Vec::new();
    for _ in 0..450 {
        match TcpStream::connect(gw.api).await {
            Ok(tcp) => idle.push(tcp),
            Err(e) => panic!("connect to the API port: {e}"),
        }
    }
    // Half-sent requests too: headers that never end.
    for tcp in idle.iter_mut().take(50) {
        let _ = tcp
            .write_all(b"GET /devices HTTP/1.1\r\nHost: gw\r\n")
            .await;
    }
    let sensor = device(&gw, "sensor-under-siege").await;
    sensor
        .echo(bytes::Bytes::from_static(b"ping"))
        .await
        .unwrap();
    assert!(
        !gw.log_text().contains("Too many open files"),
        "{}",
        gw.log_text()
    );
    drop(idle);
    gw.eventually(Duration::from_secs(10), "the device is listed", || {
        gw.api("GET", "/devices", None)
            .1
            .contains("sensor-under-siege")
    });
}

/// HTTP/2 on the TLS port announces the configured stream limit in its SETTINGS
/// (RFC 9113 section 6.5.2, `SETTINGS_MAX_CONCURRENT_STREAMS` = 0x3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_on_the_tls_port_announces_the_configured_stream_limit() {
    let gw = Gateway::start(&["--http2-max-concurrent-streams", "3"]);
    let config = wasmbed_tls::danger::insecure_dev_client_config(None, &[b"h2".to_vec()]).unwrap();
    let tcp = TcpStream::connect(gw.tls).await.unwrap();
    let mut stream = TlsConnector::from(config)
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    // The client preface and an empty SETTINGS frame.
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let mut header = [0u8; 9];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut header))
        .await
        .expect("the server's SETTINGS")
        .unwrap();
    assert_eq!(header[3], 0x4, "the first frame is SETTINGS: {header:?}");
    let len = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).await.unwrap();
    let settings: Vec<(u16, u32)> = payload
        .chunks_exact(6)
        .map(|c| {
            (
                u16::from_be_bytes([c[0], c[1]]),
                u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
            )
        })
        .collect();
    assert!(settings.contains(&(0x3, 3)), "{settings:?}");
}
