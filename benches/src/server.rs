//! Servers started in-process on `127.0.0.1:0`, each in a runtime of its own on its own
//! threads (as a separate process would be): the gateway itself, the plain-TCP and TLS
//! baselines that speak the same frames with the gateway's codec and nothing else, and a bare
//! TLS handshake server.
//!
//! The baselines answer HELLO, HEARTBEAT and ECHO and drop DATA, with the same `Framed` and
//! [`FrameCodec`] the gateway uses, but keep no registry, metrics or timers. So in one run:
//! *baseline TLS − plain TCP* is what TLS adds, and *gateway − baseline TLS* is what the
//! gateway's session handling adds.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_util::codec::Framed;
use wasmbed_protocol::{Frame, FrameCodec, Message, PROTOCOL_VERSION};
use wasmbed_server::{Gateway, GatewayConfig, Mode};

/// A server running on its own threads; stopped and joined on drop.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs `serve(listener, stop)` on a new `worker_threads`-thread runtime with a listener on
/// `127.0.0.1:0`.
fn spawn<F, Fut>(name: &str, worker_threads: usize, serve: F) -> io::Result<Running>
where
    F: FnOnce(TcpListener, oneshot::Receiver<()>) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads.max(1))
        .thread_name(name)
        .enable_all()
        .build()?;
    // Bound here so the address is known at once, and without entering the new runtime, so
    // this may be called from inside another one.
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let listener = {
                let _entered = runtime.enter();
                TcpListener::from_std(listener).expect("a bound non-blocking listener registers")
            };
            runtime.block_on(serve(listener, stopped));
            runtime.shutdown_background();
        })?;
    Ok(Running {
        addr,
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// The gateway with `config` and `tls` (from [`Pki::server_config`](crate::fixture::Pki)),
/// its API on another loopback port.
///
/// # Errors
///
/// A runtime, bind or configuration error.
pub fn gateway(
    config: GatewayConfig,
    tls: Arc<ServerConfig>,
    worker_threads: usize,
) -> io::Result<Running> {
    let gateway = Gateway::new(config, tls, Mode::Production).map_err(io::Error::other)?;
    spawn(
        "gateway",
        worker_threads,
        move |listener, stopped| async move {
            let api = match TcpListener::bind("127.0.0.1:0").await {
                Ok(api) => api,
                Err(e) => panic!("cannot bind the gateway's API port on 127.0.0.1: {e}"),
            };
            let stop = async {
                let _ = stopped.await;
            };
            if let Err(e) = gateway.serve(listener, api, stop).await {
                panic!("the in-process gateway failed: {e}");
            }
        },
    )
}

/// What a baseline server speaks.
#[derive(Debug, Clone)]
pub enum Baseline {
    /// Frames over plain TCP.
    PlainTcp,
    /// Frames over TLS with this configuration.
    Tls(Arc<ServerConfig>),
}

/// A baseline frame server (see the module docs); frames up to `max_frame_len`.
///
/// # Errors
///
/// A runtime or bind error.
pub fn baseline(kind: Baseline, max_frame_len: u32, worker_threads: usize) -> io::Result<Running> {
    let acceptor = match kind {
        Baseline::PlainTcp => None,
        Baseline::Tls(config) => Some(TlsAcceptor::from(config)),
    };
    spawn(
        "baseline",
        worker_threads,
        move |listener, mut stopped| async move {
            loop {
                let (tcp, _) = tokio::select! {
                    _ = &mut stopped => return,
                    accepted = listener.accept() => match accepted {
                        Ok(accepted) => accepted,
                        Err(_) => continue,
                    },
                };
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match acceptor {
                        None => serve_frames(tcp, max_frame_len).await,
                        Some(acceptor) => {
                            if let Ok(tls) = acceptor.accept(tcp).await {
                                serve_frames(tls, max_frame_len).await;
                            }
                        }
                    }
                });
            }
        },
    )
}

async fn serve_frames<S: AsyncRead + AsyncWrite + Unpin>(stream: S, max_frame_len: u32) {
    let mut framed = Framed::new(stream, FrameCodec::new(max_frame_len));
    while let Some(Ok(Frame { id, message })) = framed.next().await {
        let reply = match message {
            Message::Hello { .. } => Message::HelloAck {
                version: PROTOCOL_VERSION,
                heartbeat_interval_secs: 30,
                max_frame_len,
            },
            Message::Heartbeat { .. } => Message::HeartbeatAck,
            Message::Echo(payload) => Message::EchoReply(payload),
            Message::Data(_) => continue,
            _ => break,
        };
        if framed.send(Frame { id, message: reply }).await.is_err() {
            break;
        }
    }
    let _ = SinkExt::<Frame>::close(&mut framed).await;
}

/// A TLS server that completes the handshake, sends close_notify and closes; `nodelay` sets
/// `TCP_NODELAY` on accepted sockets.
///
/// # Errors
///
/// A runtime or bind error.
pub fn handshake(
    tls: Arc<ServerConfig>,
    nodelay: bool,
    worker_threads: usize,
) -> io::Result<Running> {
    let acceptor = TlsAcceptor::from(tls);
    spawn(
        "handshake",
        worker_threads,
        move |listener, mut stopped| async move {
            loop {
                let (tcp, _) = tokio::select! {
                    _ = &mut stopped => return,
                    accepted = listener.accept() => match accepted {
                        Ok(accepted) => accepted,
                        Err(_) => continue,
                    },
                };
                let _ = tcp.set_nodelay(nodelay);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(mut tls) = acceptor.accept(tcp).await {
                        let _ = tls.shutdown().await;
                    }
                });
            }
        },
    )
}

/// The gateway configuration the benchmarks use: the defaults, with frames of up to
/// `max_frame_len` bytes and a one-second shutdown grace period so that benchmarks end
/// promptly.
pub fn bench_config(max_frame_len: u32) -> GatewayConfig {
    GatewayConfig::default()
        .with_max_frame_len(max_frame_len)
        .with_shutdown_grace(std::time::Duration::from_secs(1))
}
