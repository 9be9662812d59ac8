//! Runs the real `wasmbed-gateway` binary on loopback ports and talks to it with curl, openssl
//! and the library's device client.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmbed_client::{DeviceClient, DeviceOptions};
use wasmbed_tls::rustls::ClientConfig;

/// The `wasmbed-gateway` binary: cargo's own path in this package's tests; elsewhere (the
/// firmware's end-to-end tests in `zephyr-app/device`, which include this file)
/// `$WASMBED_GATEWAY_BIN` if set, else the current sources built by [`build_gateway`].
pub fn bin() -> PathBuf {
    if let Some(path) = option_env!("CARGO_BIN_EXE_wasmbed-gateway") {
        return PathBuf::from(path);
    }
    if let Some(path) = std::env::var_os("WASMBED_GATEWAY_BIN") {
        return PathBuf::from(path);
    }
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(build_gateway).clone()
}

/// Builds `wasmbed-gateway` from the current sources with the cargo, profile and target
/// directory of the running test (once per test process; cargo makes it a no-op when
/// nothing changed), so that a test never runs a stale or missing binary.
///
/// # Panics
///
/// When the build fails, with cargo's exit status (its output went to the test's stderr).
pub fn build_gateway() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    // <target-dir>[/<triple>]/<profile>/deps/<test>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from a cargo target directory");
    let target_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is <target-dir>/tmp")
        .to_path_buf();
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(name) => name,
        None => panic!("{} names no cargo profile", profile_dir.display()),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&cargo);
    command
        .args([
            "build",
            "--quiet",
            "-p",
            "wasmbed-gateway",
            "--bin",
            "wasmbed-gateway",
        ])
        .args(["--profile", profile])
        .arg("--target-dir")
        .arg(&target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if let Some(triple_dir) = profile_dir.parent().filter(|dir| *dir != target_dir) {
        command.arg("--target").arg(
            triple_dir
                .file_name()
                .expect("<target-dir>/<triple>/<profile>"),
        );
    }
    let status = command.status().unwrap_or_else(|e| {
        panic!(
            "cannot run {} to build wasmbed-gateway: {e}",
            cargo.to_string_lossy()
        )
    });
    assert!(
        status.success(),
        "`cargo build -p wasmbed-gateway` failed ({status}): fix the build, or point \
         WASMBED_GATEWAY_BIN at a gateway binary"
    );
    let path = profile_dir.join("wasmbed-gateway");
    assert!(
        path.exists(),
        "cargo built wasmbed-gateway but {} is missing",
        path.display()
    );
    path
}

/// A gateway process; killed on drop.
pub struct Gateway {
    child: Child,
    pub tls: SocketAddr,
    pub api: SocketAddr,
    pub dir: tempfile::TempDir,
    /// The API's bearer token: the dev token from the state directory, or the file passed
    /// with `--api-token-file` (made by [`Gateway::start_in`] for production gateways);
    /// `None` with `--insecure-api-no-auth`.
    pub token: Option<String>,
    log: Arc<Mutex<Vec<String>>>,
    args: Vec<String>,
}

/// The token [`Gateway::start_in`] gives a production gateway whose test names none.
pub const TEST_API_TOKEN: &str = "test-token-0123456789abcdef0123456789abcdef";

impl Gateway {
    /// Starts the binary with `args` plus loopback ports and a temporary state directory.
    pub fn start(args: &[&str]) -> Gateway {
        let dir = tempfile::tempdir().unwrap();
        Gateway::start_in(dir, args)
    }

    pub fn start_in(dir: tempfile::TempDir, args: &[&str]) -> Gateway {
        Gateway::start_command(dir, Command::new(bin()), args, "debug")
    }

    /// Like [`Gateway::start_in`], with `WASMBED_GATEWAY_LOG` set to `log_filter`.
    pub fn start_logging(dir: tempfile::TempDir, args: &[&str], log_filter: &str) -> Gateway {
        Gateway::start_command(dir, Command::new(bin()), args, log_filter)
    }

    /// Starts the binary under an open-file limit of `nofile` (soft and hard), as
    /// `sh -c 'ulimit -n N && exec gateway ...'` does.
    pub fn start_with_open_file_limit(nofile: u64, args: &[&str]) -> Gateway {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!(r#"ulimit -n {nofile} && exec "$0" "$@""#))
            .arg(bin());
        Gateway::start_command(tempfile::tempdir().unwrap(), command, args, "debug")
    }

    /// Starts `command` (the binary, or a wrapper that execs it with the arguments added),
    /// logging with the filter `log_filter`.
    pub fn start_command(
        dir: tempfile::TempDir,
        mut command: Command,
        args: &[&str],
        log_filter: &str,
    ) -> Gateway {
        // Loopback ports chosen by the kernel, unless the test names its own.
        for flag in ["--tls-addr", "--api-addr"] {
            if !args.contains(&flag) {
                command.args([flag, "127.0.0.1:0"]);
            }
        }
        // A production gateway refuses to start without an API token; give it one.
        let named = |flag: &str| args.iter().any(|a| a.split('=').next() == Some(flag));
        if named("--cert") && !named("--api-token-file") && !named("--insecure-api-no-auth") {
            let path = dir.path().join("test-api-token");
            write_secret(&path, TEST_API_TOKEN);
            command.arg("--api-token-file").arg(&path);
        }
        let mut child = command
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .args(args)
            .env("WASMBED_GATEWAY_LOG", log_filter)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the gateway binary runs");
        let log = Arc::new(Mutex::new(Vec::new()));
        for pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    log.lock().unwrap().push(line);
                }
            });
        }
        let mut gateway = Gateway {
            child,
            tls: "0.0.0.0:0".parse().unwrap(),
            api: "0.0.0.0:0".parse().unwrap(),
            dir,
            token: None,
            log,
            args: args.iter().map(|a| a.to_string()).collect(),
        };
        let tls = gateway.wait_for_log("Starting TLS server on ", Duration::from_secs(30));
        let api = gateway.wait_for_log("Starting HTTP API on ", Duration::from_secs(5));
        gateway.tls = address_after(&tls, "Starting TLS server on ");
        gateway.api = address_after(&api, "Starting HTTP API on ");
        if !named("--insecure-api-no-auth") {
            // The gateway logs the file it reads the token from.
            let line =
                gateway.wait_for_log("the API needs a bearer token from ", Duration::from_secs(5));
            let start = line.find(" from ").unwrap() + " from ".len();
            let path = &line[start..line[start..].find(": curl").unwrap() + start];
            let token = std::fs::read_to_string(path)
                .unwrap_or_else(|e| panic!("cannot read the API token file {path}: {e}"));
            gateway.token = Some(token.trim_end().to_owned());
        }
        gateway
    }

    /// Waits for a log line containing `needle` and returns it.
    pub fn wait_for_log(&mut self, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(line) = self.log.lock().unwrap().iter().find(|l| l.contains(needle)) {
                return line.clone();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "gateway exited with {status} before logging {needle:?}:\n{}",
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no log line {needle:?} within {limit:?}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit and returns its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "gateway did not exit within {limit:?}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `GET` (or another method) on the API with curl, with the bearer token; returns
    /// (status, body).
    pub fn api(&self, method: &str, path: &str, body: Option<&[u8]>) -> (u16, String) {
        match &self.token {
            Some(token) => {
                let header = format!("Authorization: Bearer {token}");
                self.api_with(method, path, body, &["-H", &header])
            }
            None => self.api_with(method, path, body, &[]),
        }
    }

    /// Like [`Gateway::api`] but with only the given extra curl arguments (no token).
    pub fn api_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        extra: &[&str],
    ) -> (u16, String) {
        curl(&format!("http://{}{path}", self.api), method, body, extra)
    }

    pub fn api_json(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.api("GET", path, None);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    pub fn connected(&self) -> Vec<String> {
        self.api_json("/devices")["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["device_id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Polls until `f` holds (or panics after `limit`).
    pub fn eventually(&self, limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + limit;
        while !f() {
            assert!(
                Instant::now() < deadline,
                "{what} within {limit:?}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the process and starts a new one with the same arguments and directory (so the
    /// same state directory), on new loopback ports.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        let args = self.args.clone();
        *self = Gateway::start_in(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn address_after(line: &str, prefix: &str) -> SocketAddr {
    let start = line.find(prefix).unwrap() + prefix.len();
    line[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Writes a secret file with mode 0600.
pub fn write_secret(path: &Path, content: &str) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    file.write_all(content.as_bytes()).unwrap();
}

/// Runs curl; returns (status, body).
pub fn curl(url: &str, method: &str, body: Option<&[u8]>, extra: &[&str]) -> (u16, String) {
    let mut command = Command::new("curl");
    command
        .args([
            "-sS",
            "--max-time",
            "10",
            "-X",
            method,
            "-w",
            "\n%{http_code}",
        ])
        .args(extra)
        .arg(url);
    if body.is_some() {
        command.args(["--data-binary", "@-"]).stdin(Stdio::piped());
    }
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("curl is installed");
    if let Some(body) = body {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(body).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (status.trim().parse().unwrap_or(0), body.to_owned())
}

/// Runs the binary with `args` to completion: (exit code, stdout, stderr).
pub fn run(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn device_options(id: &str) -> DeviceOptions {
    DeviceOptions::new(
        id.parse()
            .unwrap_or_else(|e| panic!("test device id {id:?}: {e}")),
    )
}

pub fn dev_tls() -> Arc<ClientConfig> {
    wasmbed_tls::danger::insecure_dev_client_config(None, &[]).unwrap()
}

pub async fn device(gateway: &Gateway, id: &str) -> DeviceClient {
    DeviceClient::connect(
        gateway.tls,
        "localhost".try_into().unwrap(),
        dev_tls(),
        device_options(id),
    )
    .await
    .unwrap_or_else(|e| panic!("device {id} cannot connect: {e}\n{}", gateway.log_text()))
}

/// Runs `wasmbed-gateway pki ...` in `dir`; panics with its output when it fails.
pub fn pki(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(args, dir);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    out
}

/// Issues a device certificate for `id` from `<out>/<ca>.pem` into `out`, with `extra` flags
/// (e.g. `--algorithm rsa2048`).
pub fn pki_device(dir: &Path, out: &str, ca: &str, id: &str, extra: &[&str]) {
    let (cert, key) = (format!("{out}/{ca}.pem"), format!("{out}/{ca}-key.pem"));
    let mut args = vec![
        "pki",
        "device",
        "--ca-cert",
        &cert,
        "--ca-key",
        &key,
        "--id",
        id,
        "--out-dir",
        out,
    ];
    args.extend_from_slice(extra);
    pki(dir, &args);
}

/// The production tests' PKI in `dir`: a gateway CA in `ca/`, the gateway's certificate for
/// 127.0.0.1 and gw.example in `gw/`, and a device CA (`devices/device-ca.pem`) that issued
/// a certificate for each of `devices` into `devices/`.
pub fn make_pki(dir: &Path, devices: &[&str]) {
    pki(dir, &["pki", "ca", "--out-dir", "ca"]);
    pki(
        dir,
        &[
            "pki",
            "gateway",
            "--ca-cert",
            "ca/ca.pem",
            "--ca-key",
            "ca/ca-key.pem",
            "--san",
            "127.0.0.1,gw.example",
            "--out-dir",
            "gw",
        ],
    );
    pki(
        dir,
        &[
            "pki",
            "ca",
            "--out-dir",
            "devices",
            "--name",
            "device-ca",
            "--common-name",
            "wasmbed device CA",
        ],
    );
    for id in devices {
        pki_device(dir, "devices", "device-ca", id, &[]);
    }
}
