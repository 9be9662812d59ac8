//! A lean device connection for benchmarks and the load tool: the wire protocol over any
//! stream (TLS or, for baselines, plain TCP), with no background task, so what is timed is the
//! protocol and the transport.
//!
//! The gateway's own [`DeviceClient`](wasmbed_client::DeviceClient) runs a task per
//! device and hands requests to it over channels; that is the right shape for an application,
//! but each echo would then also time two channel hops.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::Framed;
use wasmbed_protocol::{
    ErrorCode, Frame, FrameCodec, GoodbyeReason, Message, MessageType, PROTOCOL_VERSION,
    ProtocolError,
};

/// Why a device connection failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// Reading or writing failed, or the gateway sent bytes that are not the protocol.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The connection closed.
    #[error("the connection closed")]
    Closed,
    /// The gateway sent ERROR.
    #[error("the gateway sent ERROR {code:?}: {message}")]
    Refused {
        /// The code.
        code: ErrorCode,
        /// The gateway's message.
        message: String,
    },
    /// The gateway sent GOODBYE.
    #[error("the gateway sent GOODBYE ({0:?})")]
    Goodbye(GoodbyeReason),
    /// A frame that makes no sense here.
    #[error("unexpected {0} frame")]
    Unexpected(&'static str),
}

impl DeviceError {
    /// A short label for counting errors by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            DeviceError::Protocol(ProtocolError::Io(_)) => "io",
            DeviceError::Protocol(_) => "protocol",
            DeviceError::Closed => "closed",
            DeviceError::Refused {
                code: ErrorCode::Overloaded,
                ..
            } => "refused_overloaded",
            DeviceError::Refused { .. } => "refused",
            DeviceError::Goodbye(_) => "goodbye",
            DeviceError::Unexpected(_) => "unexpected_frame",
        }
    }
}

/// One device session on a stream, after HELLO / HELLO_ACK.
#[derive(Debug)]
pub struct Device<S> {
    framed: Framed<S, FrameCodec>,
    next_id: u32,
    heartbeat_interval: Duration,
    max_frame_len: u32,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Device<S> {
    /// Sends HELLO with `device_id` and waits for HELLO_ACK; frames up to `max_frame_len` are
    /// accepted from the peer.
    ///
    /// # Errors
    ///
    /// [`DeviceError::Refused`] when the gateway answers ERROR, [`DeviceError::Closed`],
    /// [`DeviceError::Protocol`], [`DeviceError::Unexpected`].
    pub async fn hello(
        stream: S,
        device_id: &str,
        max_frame_len: u32,
    ) -> Result<Device<S>, DeviceError> {
        let mut framed = Framed::new(stream, FrameCodec::new(max_frame_len));
        let hello = Message::Hello {
            version: PROTOCOL_VERSION,
            device_id: device_id.to_owned(),
            firmware_version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        framed
            .send(Frame {
                id: 1,
                message: hello,
            })
            .await?;
        match framed.next().await.ok_or(DeviceError::Closed)??.message {
            Message::HelloAck {
                heartbeat_interval_secs,
                max_frame_len: peer_max,
                ..
            } => Ok(Device {
                framed,
                next_id: 2,
                heartbeat_interval: Duration::from_secs(heartbeat_interval_secs.into()),
                max_frame_len: peer_max.min(max_frame_len),
            }),
            other => Err(unexpected(other)),
        }
    }

    /// The heartbeat interval from HELLO_ACK.
    pub fn heartbeat_interval(&self) -> Duration {
        self.heartbeat_interval
    }

    /// The largest frame both sides accept.
    pub fn max_frame_len(&self) -> u32 {
        self.max_frame_len
    }

    /// The largest ECHO or DATA payload both sides accept.
    pub fn max_payload_len(&self) -> usize {
        // type (1) + id (4)
        self.max_frame_len as usize - 5
    }

    fn fresh_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    /// Sends `message` with a new id and flushes; returns the id.
    ///
    /// # Errors
    ///
    /// [`DeviceError::Protocol`].
    pub async fn send(&mut self, message: Message) -> Result<u32, DeviceError> {
        let id = self.fresh_id();
        self.framed.send(Frame { id, message }).await?;
        Ok(id)
    }

    /// Queues `message` with a new id without flushing (see [`Device::flush`]); returns the id.
    ///
    /// # Errors
    ///
    /// [`DeviceError::Protocol`].
    pub async fn feed(&mut self, message: Message) -> Result<u32, DeviceError> {
        let id = self.fresh_id();
        self.framed.feed(Frame { id, message }).await?;
        Ok(id)
    }

    /// Writes out what [`Device::feed`] queued.
    ///
    /// # Errors
    ///
    /// [`DeviceError::Protocol`].
    pub async fn flush(&mut self) -> Result<(), DeviceError> {
        Ok(SinkExt::<Frame>::flush(&mut self.framed).await?)
    }

    /// The next frame from the gateway. ECHO from the gateway is answered here; GOODBYE and
    /// ERROR end the session as errors.
    ///
    /// # Errors
    ///
    /// [`DeviceError::Closed`], [`DeviceError::Goodbye`], [`DeviceError::Refused`],
    /// [`DeviceError::Protocol`].
    pub async fn recv(&mut self) -> Result<Frame, DeviceError> {
        loop {
            let frame = self.framed.next().await.ok_or(DeviceError::Closed)??;
            match frame.message {
                Message::Echo(payload) => {
                    let reply = Frame {
                        id: frame.id,
                        message: Message::EchoReply(payload),
                    };
                    self.framed.send(reply).await?;
                }
                Message::Goodbye { reason } => return Err(DeviceError::Goodbye(reason)),
                Message::Error { code, message } => {
                    return Err(DeviceError::Refused { code, message });
                }
                _ => return Ok(frame),
            }
        }
    }

    /// Sends ECHO with `payload` and waits for its ECHO_REPLY; other frames that arrive
    /// meanwhile (HEARTBEAT_ACK, DATA) are dropped.
    ///
    /// # Errors
    ///
    /// As [`Device::recv`], and [`DeviceError::Unexpected`] for a reply with other bytes.
    pub async fn echo(&mut self, payload: Bytes) -> Result<(), DeviceError> {
        let id = self.send(Message::Echo(payload.clone())).await?;
        loop {
            let frame = self.recv().await?;
            if let (true, Message::EchoReply(reply)) = (frame.id == id, &frame.message) {
                if *reply != payload {
                    return Err(DeviceError::Unexpected("ECHO_REPLY with other bytes"));
                }
                return Ok(());
            }
        }
    }

    /// Sends GOODBYE and closes the stream (TLS sends close_notify).
    ///
    /// # Errors
    ///
    /// [`DeviceError::Protocol`].
    pub async fn goodbye(mut self) -> Result<(), DeviceError> {
        self.send(Message::Goodbye {
            reason: GoodbyeReason::Normal,
        })
        .await?;
        Ok(SinkExt::<Frame>::close(&mut self.framed).await?)
    }
}

fn unexpected(message: Message) -> DeviceError {
    match message {
        Message::Error { code, message } => DeviceError::Refused { code, message },
        Message::Goodbye { reason } => DeviceError::Goodbye(reason),
        other => DeviceError::Unexpected(type_name(other.message_type())),
    }
}

fn type_name(message_type: MessageType) -> &'static str {
    message_type.as_str()
}

/// A byte stream of any kind: plain TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A device over a boxed stream, so plain-TCP and TLS devices have one type.
pub type AnyDevice = Device<Box<dyn Io>>;
