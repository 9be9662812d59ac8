//! One device session: [`DeviceClient`] and the task that runs it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_util::codec::Framed;
use wasmbed_protocol::{ErrorCode, Frame, FrameCodec, GoodbyeReason, Message, PROTOCOL_VERSION};

use crate::error::{ClientError, SessionEnd};
use crate::options::{DeviceOptions, queue_len};

pub(crate) enum Request {
    Echo(Bytes, oneshot::Sender<(Duration, Bytes)>),
    Data(Bytes),
    Goodbye,
}

/// A connected device session. Heartbeats and answers to the gateway's ECHO run in a
/// background task; DATA from the gateway arrives through [`DeviceClient::recv_data`].
#[derive(Debug)]
pub struct DeviceClient {
    pub(crate) requests: mpsc::Sender<Request>,
    data: mpsc::Receiver<Bytes>,
    pub(crate) task: JoinHandle<SessionEnd>,
    heartbeat_interval: Duration,
    max_frame_len: u32,
    pub(crate) stable: Arc<AtomicBool>,
    dropped_data: Arc<AtomicU64>,
}

type Stream = Framed<TlsStream<TcpStream>, FrameCodec>;

impl DeviceClient {
    /// Connects to `addr`, verifying the gateway as `server_name` with `tls`, and completes
    /// HELLO / HELLO_ACK.
    ///
    /// # Errors
    ///
    /// [`ClientError::Connect`], [`ClientError::Tls`], [`ClientError::Timeout`],
    /// [`ClientError::Refused`] (ERROR instead of HELLO_ACK), [`ClientError::Protocol`].
    pub async fn connect(
        addr: SocketAddr,
        server_name: ServerName<'static>,
        tls: Arc<ClientConfig>,
        options: DeviceOptions,
    ) -> Result<DeviceClient, ClientError> {
        let timeout = options.connect_timeout;
        tokio::time::timeout(
            timeout,
            DeviceClient::connect_inner(addr, server_name, tls, options),
        )
        .await
        .map_err(|_| ClientError::Timeout { addr, timeout })?
    }

    async fn connect_inner(
        addr: SocketAddr,
        server_name: ServerName<'static>,
        tls: Arc<ClientConfig>,
        options: DeviceOptions,
    ) -> Result<DeviceClient, ClientError> {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|source| ClientError::Connect { addr, source })?;
        let _ = tcp.set_nodelay(true);
        let tls = TlsConnector::from(tls)
            .connect(server_name, tcp)
            .await
            .map_err(|source| ClientError::Tls { addr, source })?;
        let mut stream = Framed::new(tls, FrameCodec::new(options.max_frame_len));
        let hello = Message::Hello {
            version: PROTOCOL_VERSION,
            device_id: options.device_id.as_str().to_owned(),
            firmware_version: options.firmware_version.clone(),
        };
        stream
            .send(Frame {
                id: 1,
                message: hello,
            })
            .await?;
        let (heartbeat_interval, max_frame_len) = match stream.next().await {
            Some(Ok(Frame {
                message:
                    Message::HelloAck {
                        heartbeat_interval_secs,
                        max_frame_len,
                        ..
                    },
                ..
            })) => (
                Duration::from_secs(heartbeat_interval_secs.into()),
                max_frame_len,
            ),
            Some(Ok(Frame {
                message: Message::Error { code, message },
                ..
            })) => return Err(ClientError::Refused { code, message }),
            Some(Ok(Frame {
                message: Message::Goodbye { reason },
                ..
            })) => return Err(ClientError::Ended(SessionEnd::Goodbye(reason))),
            Some(Ok(other)) => {
                return Err(ClientError::Refused {
                    code: ErrorCode::UnexpectedMessage,
                    message: format!(
                        "expected HELLO_ACK, got {}",
                        other.message.message_type().as_str()
                    ),
                });
            }
            Some(Err(e)) => return Err(e.into()),
            None => return Err(ClientError::Ended(SessionEnd::Closed)),
        };
        let (requests, requests_rx) = mpsc::channel(queue_len(options.request_queue_len));
        let (data_tx, data) = mpsc::channel(queue_len(options.data_queue_len));
        let heartbeats = options.heartbeats.then_some(heartbeat_interval);
        let stable = Arc::new(AtomicBool::new(false));
        let dropped_data = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(run(
            stream,
            requests_rx,
            Inbound {
                queue: data_tx,
                dropped: dropped_data.clone(),
            },
            heartbeats,
            stable.clone(),
        ));
        Ok(DeviceClient {
            requests,
            data,
            task,
            heartbeat_interval,
            max_frame_len,
            stable,
            dropped_data,
        })
    }

    /// The heartbeat interval the gateway announced.
    pub fn heartbeat_interval(&self) -> Duration {
        self.heartbeat_interval
    }

    /// The largest frame the gateway accepts.
    pub fn max_frame_len(&self) -> u32 {
        self.max_frame_len
    }

    /// Sends ECHO and waits for ECHO_REPLY; returns the round-trip time.
    ///
    /// # Errors
    ///
    /// [`ClientError::Ended`] when the session is over.
    pub async fn echo(&self, payload: Bytes) -> Result<Duration, ClientError> {
        let (reply, answer) = oneshot::channel();
        self.request(Request::Echo(payload, reply)).await?;
        answer
            .await
            .map(|(rtt, _)| rtt)
            .map_err(|_| ClientError::Ended(SessionEnd::Closed))
    }

    /// Sends DATA.
    ///
    /// # Errors
    ///
    /// [`ClientError::Ended`] when the session is over.
    pub async fn send_data(&self, data: Bytes) -> Result<(), ClientError> {
        self.request(Request::Data(data)).await
    }

    /// DATA frames from the gateway dropped so far because
    /// [`DeviceOptions::data_queue_len`] of them were waiting unread: a reader that falls
    /// behind loses the newest DATA, and this count says how many.
    pub fn dropped_data(&self) -> u64 {
        self.dropped_data.load(Ordering::Relaxed)
    }

    /// The next DATA from the gateway, oldest first; `None` once the session is over and every
    /// kept frame has been read. See [`DeviceClient::dropped_data`] for a reader that falls
    /// behind.
    pub async fn recv_data(&mut self) -> Option<Bytes> {
        self.data.recv().await
    }

    /// Says GOODBYE, closes TLS with close_notify and waits for the session to end.
    pub async fn goodbye(self) -> SessionEnd {
        let _ = self.requests.send(Request::Goodbye).await;
        self.task.await.unwrap_or(SessionEnd::Closed)
    }

    /// Waits until the gateway ends the session (GOODBYE, ERROR or close).
    pub async fn closed(self) -> SessionEnd {
        self.task.await.unwrap_or(SessionEnd::Closed)
    }

    /// Drops the connection without GOODBYE or close_notify, as a device losing power does.
    pub fn abort(self) {
        self.task.abort();
    }

    async fn request(&self, request: Request) -> Result<(), ClientError> {
        self.requests
            .send(request)
            .await
            .map_err(|_| ClientError::Ended(SessionEnd::Closed))
    }
}

async fn run(
    mut stream: Stream,
    mut requests: mpsc::Receiver<Request>,
    data: Inbound,
    heartbeats: Option<Duration>,
    stable: Arc<AtomicBool>,
) -> SessionEnd {
    let started = Instant::now();
    let mut next_id: u32 = 2;
    let mut pending: HashMap<u32, (Instant, oneshot::Sender<(Duration, Bytes)>)> = HashMap::new();
    let mut ticker = tokio::time::interval(heartbeats.unwrap_or(Duration::from_secs(3600)));
    ticker.tick().await;
    loop {
        let mut id = || {
            next_id = next_id.wrapping_add(1).max(1);
            next_id
        };
        let outgoing = tokio::select! {
            _ = ticker.tick(), if heartbeats.is_some() => {
                let uptime_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
                Some(Frame { id: id(), message: Message::Heartbeat { uptime_ms } })
            }
            request = requests.recv() => match request {
                Some(Request::Echo(payload, reply)) => {
                    let id = id();
                    pending.insert(id, (Instant::now(), reply));
                    Some(Frame { id, message: Message::Echo(payload) })
                }
                Some(Request::Data(bytes)) => Some(Frame { id: id(), message: Message::Data(bytes) }),
                Some(Request::Goodbye) | None => {
                    let goodbye = Frame { id: id(), message: Message::Goodbye { reason: GoodbyeReason::Normal } };
                    let _ = stream.send(goodbye).await;
                    let _ = SinkExt::<Frame>::close(&mut stream).await;
                    return SessionEnd::Left;
                }
            },
            frame = stream.next() => match frame {
                Some(Ok(Frame { id, message })) => match message {
                    Message::Echo(payload) => Some(Frame { id, message: Message::EchoReply(payload) }),
                    Message::EchoReply(payload) => {
                        if let Some((sent, reply)) = pending.remove(&id) {
                            let _ = reply.send((sent.elapsed(), payload));
                        }
                        None
                    }
                    Message::Data(bytes) => {
                        data.push(bytes);
                        None
                    }
                    // The firmware's rule (gateway_client.c): a session that has lasted a
                    // heartbeat interval and has its heartbeat answered is stable.
                    Message::HeartbeatAck => {
                        if heartbeats.is_some_and(|interval| started.elapsed() >= interval) {
                            stable.store(true, Ordering::Relaxed);
                        }
                        None
                    }
                    Message::Goodbye { reason } => return SessionEnd::Goodbye(reason),
                    Message::Error { code, message } => return SessionEnd::Error(code, message),
                    _ => None,
                },
                Some(Err(_)) | None => return SessionEnd::Closed,
            },
        };
        if let Some(frame) = outgoing
            && stream.send(frame).await.is_err()
        {
            return SessionEnd::Closed;
        }
    }
}

/// Where the session task puts DATA from the gateway: the bounded queue
/// [`DeviceClient::recv_data`] reads, and the count of frames that did not fit.
struct Inbound {
    queue: mpsc::Sender<Bytes>,
    dropped: Arc<AtomicU64>,
}

impl Inbound {
    fn push(&self, bytes: Bytes) {
        // A full queue drops rather than waits: the session must keep answering heartbeats
        // and ECHO however slowly DATA is read. A closed queue means nobody reads any more.
        if let Err(mpsc::error::TrySendError::Full(_)) = self.queue.try_send(bytes) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use tokio_rustls::rustls;

    use super::*;

    /// Issue 12: an error's message and its source are printed one after the other by
    /// `{:#}`-style chains, so the message must not repeat the source.
    #[tokio::test]
    async fn a_refused_connection_names_the_address_and_leaves_the_cause_to_the_source() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let tls = Arc::new(
            ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
        );
        let err = DeviceClient::connect(
            addr,
            "localhost".try_into().unwrap(),
            tls,
            DeviceOptions::new("d".parse().unwrap()),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ClientError::Connect { .. }), "{err:?}");
        let source = err
            .source()
            .expect("the I/O error is the source")
            .to_string();
        assert_eq!(err.to_string(), format!("cannot connect to {addr}"));
        assert!(!err.to_string().contains(&source), "{err}: {source}");
    }
}
