//! What a device announces and the limits of its session: [`DeviceOptions`].

use std::time::Duration;

use wasmbed_protocol::{DEFAULT_MAX_FRAME_LEN, DeviceId};

/// DATA frames from the gateway that wait for [`DeviceClient::recv_data`](crate::DeviceClient::recv_data)
/// by default. Past this many unread, further DATA is dropped and counted by
/// [`DeviceClient::dropped_data`](crate::DeviceClient::dropped_data): the session task never
/// blocks on a slow reader, because heartbeats and the gateway's ECHO must still be answered.
pub const DEFAULT_DATA_QUEUE_LEN: usize = 256;

/// ECHO, DATA and GOODBYE requests from the [`DeviceClient`](crate::DeviceClient) methods that
/// wait for the session task by default. A full queue makes
/// [`DeviceClient::send_data`](crate::DeviceClient::send_data) and
/// [`DeviceClient::echo`](crate::DeviceClient::echo) wait (nothing is dropped).
pub const DEFAULT_REQUEST_QUEUE_LEN: usize = 64;

/// The largest queue length the `with_*_queue_len` setters keep (tokio's channel limit is
/// `usize::MAX >> 3`); larger values are lowered to it.
pub const MAX_QUEUE_LEN: usize = usize::MAX >> 3;

/// What a [`DeviceClient`](crate::DeviceClient) announces and how it behaves.
///
/// Start from [`DeviceOptions::new`] (or `default()`) and change what you need with the
/// `with_*` methods; fields stay readable and assignable, and a new one is not a breaking
/// change.
///
/// # Defaults
///
/// * `device_id`: `rust-device`
/// * `firmware_version`: this crate's version
/// * `heartbeats`: `true` (sent at the interval from HELLO_ACK)
/// * `connect_timeout`: 10 s for TCP, TLS and HELLO_ACK together
/// * `max_frame_len`: 4096
/// * `data_queue_len`: [`DEFAULT_DATA_QUEUE_LEN`] (256)
/// * `request_queue_len`: [`DEFAULT_REQUEST_QUEUE_LEN`] (64)
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeviceOptions {
    /// Device id sent in HELLO; checked against the protocol's rule when it is made, so a bad
    /// id fails before connecting.
    pub device_id: DeviceId,
    /// Firmware version sent in HELLO (0-64 bytes).
    pub firmware_version: String,
    /// Whether to send heartbeats; `false` makes the gateway close the session after 3
    /// intervals (useful in tests).
    pub heartbeats: bool,
    /// Limit for connecting: TCP, TLS and the HELLO exchange.
    pub connect_timeout: Duration,
    /// Largest frame accepted from the gateway.
    pub max_frame_len: u32,
    /// DATA frames from the gateway kept until read (at least 1; see
    /// [`DEFAULT_DATA_QUEUE_LEN`] for what happens past it).
    pub data_queue_len: usize,
    /// Requests waiting for the session task (at least 1; see [`DEFAULT_REQUEST_QUEUE_LEN`]).
    pub request_queue_len: usize,
}

impl Default for DeviceOptions {
    fn default() -> DeviceOptions {
        DeviceOptions {
            device_id: DeviceId::new("rust-device").expect("a valid device id"),
            firmware_version: env!("CARGO_PKG_VERSION").into(),
            heartbeats: true,
            connect_timeout: Duration::from_secs(10),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            data_queue_len: DEFAULT_DATA_QUEUE_LEN,
            request_queue_len: DEFAULT_REQUEST_QUEUE_LEN,
        }
    }
}

impl DeviceOptions {
    /// The defaults with `device_id`. Parse a string with `"sensor-1".parse()?`
    /// ([`DeviceId`]'s `FromStr`), which names the rule a bad id breaks.
    pub fn new(device_id: DeviceId) -> DeviceOptions {
        DeviceOptions {
            device_id,
            ..DeviceOptions::default()
        }
    }

    /// Sets [`DeviceOptions::firmware_version`] (0-64 bytes).
    #[must_use]
    pub fn with_firmware_version(mut self, firmware_version: impl Into<String>) -> DeviceOptions {
        self.firmware_version = firmware_version.into();
        self
    }

    /// Sets [`DeviceOptions::heartbeats`].
    #[must_use]
    pub fn with_heartbeats(mut self, heartbeats: bool) -> DeviceOptions {
        self.heartbeats = heartbeats;
        self
    }

    /// Sets [`DeviceOptions::connect_timeout`].
    #[must_use]
    pub fn with_connect_timeout(mut self, connect_timeout: Duration) -> DeviceOptions {
        self.connect_timeout = connect_timeout;
        self
    }

    /// Sets [`DeviceOptions::max_frame_len`] (bytes).
    #[must_use]
    pub fn with_max_frame_len(mut self, max_frame_len: u32) -> DeviceOptions {
        self.max_frame_len = max_frame_len;
        self
    }

    /// Sets [`DeviceOptions::data_queue_len`] (frames; 0 is raised to 1, values above
    /// [`MAX_QUEUE_LEN`] are lowered to it).
    #[must_use]
    pub fn with_data_queue_len(mut self, data_queue_len: usize) -> DeviceOptions {
        self.data_queue_len = data_queue_len;
        self
    }

    /// Sets [`DeviceOptions::request_queue_len`] (requests; 0 is raised to 1, values above
    /// [`MAX_QUEUE_LEN`] are lowered to it).
    #[must_use]
    pub fn with_request_queue_len(mut self, request_queue_len: usize) -> DeviceOptions {
        self.request_queue_len = request_queue_len;
        self
    }
}

/// A queue length tokio's channel accepts.
pub(crate) fn queue_len(len: usize) -> usize {
    len.clamp(1, MAX_QUEUE_LEN)
}
