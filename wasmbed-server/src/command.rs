//! Commands from the API to a device session: [`DeviceHandle`] sends them, the session's
//! queue (at most [`GatewayConfig::outbound_queue_len`](crate::GatewayConfig) frames) holds them.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

/// What the API asks a session to do.
#[derive(Debug)]
pub(crate) enum Command {
    /// Send DATA with these bytes.
    Data(Bytes),
    /// Send ECHO with these bytes and report the round trip.
    Echo {
        payload: Bytes,
        /// Receives the round-trip time and the reply's payload.
        reply: oneshot::Sender<(Duration, Bytes)>,
    },
}

/// The sending end of a session's command queue and its receiving end.
pub(crate) fn queue(len: usize) -> (DeviceHandle, mpsc::Receiver<Command>) {
    let (commands, receiver) = mpsc::channel(len);
    (DeviceHandle { commands }, receiver)
}

/// Sends frames to one connected device session: what `POST /devices/{id}/data` and
/// `POST /devices/{id}/echo` use. From [`Registry::device`](crate::registry::Registry::device);
/// cheap to clone. A handle outlives its session: it then answers
/// [`CommandError::Disconnected`].
#[derive(Debug, Clone)]
pub struct DeviceHandle {
    commands: mpsc::Sender<Command>,
}

impl DeviceHandle {
    /// Queues one DATA frame with `data` (at most `max_frame_len - 5` bytes; a larger one
    /// ends the session with an encode error), without waiting.
    ///
    /// # Errors
    ///
    /// [`CommandError::QueueFull`] when the device has
    /// [`outbound_queue_len`](crate::GatewayConfig::outbound_queue_len) frames waiting;
    /// [`CommandError::Disconnected`] when the session has ended.
    pub fn try_send_data(&self, data: Bytes) -> Result<(), CommandError> {
        self.commands.try_send(Command::Data(data)).map_err(refused)
    }

    /// Queues one ECHO with `payload`, without waiting; [`EchoReply::wait`] then waits for the
    /// device's ECHO_REPLY.
    ///
    /// # Errors
    ///
    /// As [`DeviceHandle::try_send_data`].
    pub fn try_echo(&self, payload: Bytes) -> Result<EchoReply, CommandError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .try_send(Command::Echo { payload, reply })
            .map_err(refused)?;
        Ok(EchoReply { answer })
    }
}

/// The pending answer to an ECHO queued with [`DeviceHandle::try_echo`].
#[derive(Debug)]
pub struct EchoReply {
    answer: oneshot::Receiver<(Duration, Bytes)>,
}

impl EchoReply {
    /// The round-trip time (from the frame's send to its reply) and the payload the device
    /// returned; `None` when the session ended before the reply. Wrap it in a timeout: a
    /// device that never answers is not an error until its session ends.
    pub async fn wait(self) -> Option<(Duration, Bytes)> {
        self.answer.await.ok()
    }
}

/// Why a command was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The device's queue is full: it reads more slowly than frames are sent to it. Retry
    /// later.
    #[error("the device's outbound queue is full")]
    QueueFull,
    /// The session has ended.
    #[error("the device session has ended")]
    Disconnected,
}

/// A refused `try_send` as our error (a private function rather than a `From` impl, so that
/// tokio's error type stays out of the public API).
fn refused<T>(e: mpsc::error::TrySendError<T>) -> CommandError {
    match e {
        mpsc::error::TrySendError::Full(_) => CommandError::QueueFull,
        mpsc::error::TrySendError::Closed(_) => CommandError::Disconnected,
    }
}
