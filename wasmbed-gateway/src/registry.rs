//! The session registry: one entry per device id, the newest session in charge.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Devices remembered after they disconnect, for `GET /devices/{id}`; the longest-gone are
/// forgotten first.
pub const MAX_OFFLINE_DEVICES: usize = 10_000;

/// What the API asks a session to do.
#[derive(Debug)]
pub enum Command {
    /// Send DATA with these bytes.
    Data(Bytes),
    /// Send ECHO with these bytes and report the round trip.
    Echo {
        /// Payload.
        payload: Bytes,
        /// Receives the round-trip time and the reply's payload.
        reply: oneshot::Sender<(Duration, Bytes)>,
    },
}

/// A device's connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// A session is open.
    Connected,
    /// The device missed 3 heartbeat intervals and was closed.
    Unreachable,
    /// The session ended (GOODBYE, close, disconnect, takeover by nothing newer).
    Disconnected,
}

/// What the gateway knows about a device (the JSON of `GET /devices/{id}`).
#[derive(Debug, Clone, Serialize)]
pub struct DeviceInfo {
    /// The id from HELLO.
    pub device_id: String,
    /// Connection state.
    pub state: DeviceState,
    /// Firmware version from HELLO.
    pub firmware_version: String,
    /// The device's address as the gateway sees it.
    pub peer_addr: SocketAddr,
    /// Negotiated TLS version, e.g. `TLSv1_3`.
    pub tls_version: String,
    /// Negotiated cipher suite.
    pub cipher_suite: String,
    /// Subject CN of the client certificate (mTLS), if one was presented.
    pub client_certificate_cn: Option<String>,
    /// When the session started (RFC 3339).
    pub connected_at: String,
    /// When the last frame arrived (RFC 3339).
    pub last_seen: String,
    /// Device uptime from the last HEARTBEAT, in milliseconds.
    pub uptime_ms: Option<u32>,
    /// Frames received in this session.
    pub frames_in: u64,
    /// Frames sent in this session.
    pub frames_out: u64,
    /// DATA messages waiting for `GET /devices/{id}/data`.
    pub data_queued: usize,
    /// DATA messages dropped because the inbound queue was full.
    pub data_dropped: u64,
    /// Identifies the session; a takeover starts a new one.
    pub session_id: u64,
    #[serde(skip)]
    last_seen_at: Instant,
}

impl DeviceInfo {
    /// A new connected session's record.
    pub fn new(
        device_id: String,
        firmware_version: String,
        peer_addr: SocketAddr,
        tls_version: String,
        cipher_suite: String,
        client_certificate_cn: Option<String>,
    ) -> DeviceInfo {
        let now = rfc3339(SystemTime::now());
        DeviceInfo {
            device_id,
            state: DeviceState::Connected,
            firmware_version,
            peer_addr,
            tls_version,
            cipher_suite,
            client_certificate_cn,
            connected_at: now.clone(),
            last_seen: now,
            uptime_ms: None,
            frames_in: 0,
            frames_out: 0,
            data_queued: 0,
            data_dropped: 0,
            session_id: 0,
            last_seen_at: Instant::now(),
        }
    }
}

/// The handle the registry keeps for a live session.
#[derive(Debug)]
struct Live {
    commands: mpsc::Sender<Command>,
    taken_over: CancellationToken,
}

#[derive(Debug)]
struct Entry {
    info: DeviceInfo,
    live: Option<Live>,
    inbound: VecDeque<(String, Bytes)>,
}

/// All devices, keyed by device id. Cheap operations under one short-held lock.
#[derive(Debug)]
pub struct Registry {
    devices: Mutex<HashMap<String, Entry>>,
    next_session: AtomicU64,
    inbound_queue_len: usize,
}

/// What [`Registry::register`] gives the new session.
#[derive(Debug)]
pub struct Registration {
    /// The session's id.
    pub session_id: u64,
    /// Cancelled when a newer session for the same device takes over.
    pub taken_over: CancellationToken,
    /// Whether an older session was taken over.
    pub replaced: bool,
}

impl Registry {
    /// An empty registry keeping up to `inbound_queue_len` DATA messages per device.
    pub fn new(inbound_queue_len: usize) -> Registry {
        Registry {
            devices: Mutex::new(HashMap::new()),
            next_session: AtomicU64::new(1),
            inbound_queue_len,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock cannot leave an entry half-written in a way that
        // matters more than losing the registry, so keep serving.
        self.devices
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a new session for `info.device_id`; an existing session for the same id is
    /// told to leave (newest wins).
    pub fn register(&self, mut info: DeviceInfo, commands: mpsc::Sender<Command>) -> Registration {
        let session_id = self.next_session.fetch_add(1, Ordering::Relaxed);
        info.session_id = session_id;
        let taken_over = CancellationToken::new();
        let live = Live {
            commands,
            taken_over: taken_over.clone(),
        };
        let mut devices = self.lock();
        let replaced = match devices.get_mut(&info.device_id) {
            Some(entry) => {
                let old = entry.live.replace(live);
                let replaced = old.is_some();
                if let Some(old) = old {
                    old.taken_over.cancel();
                }
                info.data_queued = entry.inbound.len();
                entry.info = info;
                replaced
            }
            None => {
                if devices.len() >= MAX_OFFLINE_DEVICES {
                    evict_oldest_offline(&mut devices);
                }
                devices.insert(
                    info.device_id.clone(),
                    Entry {
                        info,
                        live: Some(live),
                        inbound: VecDeque::new(),
                    },
                );
                false
            }
        };
        Registration {
            session_id,
            taken_over,
            replaced,
        }
    }

    /// Ends session `session_id` of `device_id` with `state`; does nothing if a newer session
    /// has taken over.
    pub fn unregister(&self, device_id: &str, session_id: u64, state: DeviceState) {
        if let Some(entry) = self.lock().get_mut(device_id) {
            if entry.info.session_id == session_id {
                entry.live = None;
                entry.info.state = state;
            }
        }
    }

    /// Updates the record of session `session_id` (frames, last seen, uptime).
    pub fn update(&self, device_id: &str, session_id: u64, f: impl FnOnce(&mut DeviceInfo)) {
        if let Some(entry) = self.lock().get_mut(device_id) {
            if entry.info.session_id == session_id {
                f(&mut entry.info);
            }
        }
    }

    /// Marks a frame from the device: updates `last_seen` and `frames_in`.
    pub fn seen(&self, device_id: &str, session_id: u64) {
        self.update(device_id, session_id, |info| {
            info.frames_in += 1;
            info.last_seen_at = Instant::now();
            info.last_seen = rfc3339(SystemTime::now());
        });
    }

    /// Queues DATA received from the device; drops the oldest when the queue is full.
    pub fn push_inbound(&self, device_id: &str, data: Bytes) {
        if let Some(entry) = self.lock().get_mut(device_id) {
            if entry.inbound.len() >= self.inbound_queue_len {
                entry.inbound.pop_front();
                entry.info.data_dropped += 1;
            }
            entry.inbound.push_back((rfc3339(SystemTime::now()), data));
            entry.info.data_queued = entry.inbound.len();
        }
    }

    /// Takes the queued DATA of a device (receive time, bytes), oldest first; `None` for an
    /// unknown device.
    pub fn drain_inbound(&self, device_id: &str) -> Option<Vec<(String, Bytes)>> {
        let mut devices = self.lock();
        let entry = devices.get_mut(device_id)?;
        entry.info.data_queued = 0;
        Some(entry.inbound.drain(..).collect())
    }

    /// The command channel of a connected device.
    pub fn commands(&self, device_id: &str) -> Option<mpsc::Sender<Command>> {
        self.lock()
            .get(device_id)
            .and_then(|entry| entry.live.as_ref().map(|live| live.commands.clone()))
    }

    /// Connected devices, sorted by id.
    pub fn connected(&self) -> Vec<DeviceInfo> {
        let mut list: Vec<DeviceInfo> = self
            .lock()
            .values()
            .filter(|entry| entry.live.is_some())
            .map(|entry| entry.info.clone())
            .collect();
        list.sort_by(|a, b| a.device_id.cmp(&b.device_id));
        list
    }

    /// A device's record, connected or not.
    pub fn get(&self, device_id: &str) -> Option<DeviceInfo> {
        self.lock().get(device_id).map(|entry| entry.info.clone())
    }

    /// Number of connected devices.
    pub fn connected_count(&self) -> usize {
        self.lock()
            .values()
            .filter(|entry| entry.live.is_some())
            .count()
    }
}

fn evict_oldest_offline(devices: &mut HashMap<String, Entry>) {
    let oldest = devices
        .iter()
        .filter(|(_, entry)| entry.live.is_none())
        .min_by_key(|(_, entry)| entry.info.last_seen_at)
        .map(|(id, _)| id.clone());
    if let Some(id) = oldest {
        devices.remove(&id);
    }
}

/// RFC 3339 UTC with seconds.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    time::OffsetDateTime::from(time)
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::from(time))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
