//! The session registry: one entry per device id, the newest session in charge.
//!
//! # Cost
//!
//! Every operation a session or a new device does is O(1) or O(log n) in the number of
//! remembered devices, under one short-held lock: devices that left are kept in the order they
//! left (a `BTreeMap` keyed by a departure sequence number), so forgetting the longest-gone one
//! is `pop_first`, not a scan; the offline devices that still hold DATA are a second such map,
//! so the byte budget finds its victim the same way; and a frame only stores a `SystemTime`,
//! formatted as RFC 3339 when the API reads it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde::{Serialize, Serializer};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Default of [`GatewayConfig::max_offline_devices`](crate::GatewayConfig::max_offline_devices):
/// devices remembered after they disconnect, for `GET /devices/{id}`; the longest-gone are
/// forgotten first.
pub const DEFAULT_MAX_OFFLINE_DEVICES: usize = 10_000;

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
    /// When the session started; RFC 3339 UTC with seconds in JSON.
    #[serde(serialize_with = "serialize_rfc3339")]
    pub connected_at: SystemTime,
    /// When the last frame arrived; RFC 3339 UTC with seconds in JSON.
    #[serde(serialize_with = "serialize_rfc3339")]
    pub last_seen: SystemTime,
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
        let now = SystemTime::now();
        DeviceInfo {
            device_id,
            state: DeviceState::Connected,
            firmware_version,
            peer_addr,
            tls_version,
            cipher_suite,
            client_certificate_cn,
            connected_at: now,
            last_seen: now,
            uptime_ms: None,
            frames_in: 0,
            frames_out: 0,
            data_queued: 0,
            data_dropped: 0,
            session_id: 0,
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
    inbound: VecDeque<(SystemTime, Bytes)>,
    /// While offline: the key of this device in [`State::offline`] (and in
    /// [`State::offline_with_data`] when `inbound` is not empty).
    gone: Option<u64>,
}

/// All devices, keyed by device id. Cheap operations under one short-held lock.
///
/// DATA from devices is bounded twice: per device by the inbound queue length, and in total by
/// a byte budget. When the budget is exhausted, the oldest message of a disconnected device is
/// dropped first, then the oldest of the device that is sending; every drop is counted in its
/// device's `data_dropped`.
///
/// Devices that left are remembered (state, counters, queued DATA) up to a number of
/// `max_offline_devices`; when one more leaves, the one gone longest is forgotten. Connected
/// devices are never forgotten; they are bounded by the connection limit.
#[derive(Debug)]
pub struct Registry {
    state: Mutex<State>,
    next_session: AtomicU64,
    inbound_queue_len: usize,
    inbound_bytes_limit: usize,
    max_offline_devices: usize,
}

#[derive(Debug, Default)]
struct State {
    devices: HashMap<String, Entry>,
    /// Offline devices by departure, oldest first.
    offline: BTreeMap<u64, String>,
    /// The offline devices that hold DATA, by departure, oldest first.
    offline_with_data: BTreeMap<u64, String>,
    next_departure: u64,
    inbound_bytes: usize,
}

impl State {
    /// Drops the oldest queued message of `device_id`, counting it as dropped.
    fn drop_oldest(&mut self, device_id: &str) {
        let Some(entry) = self.devices.get_mut(device_id) else {
            return;
        };
        if let Some((_, old)) = entry.inbound.pop_front() {
            self.inbound_bytes -= old.len();
            entry.info.data_dropped += 1;
            entry.info.data_queued = entry.inbound.len();
        }
        if entry.inbound.is_empty()
            && let Some(gone) = entry.gone
        {
            self.offline_with_data.remove(&gone);
        }
    }

    /// Forgets the device that has been offline longest.
    fn forget_longest_gone(&mut self) {
        let Some((gone, id)) = self.offline.pop_first() else {
            return;
        };
        self.offline_with_data.remove(&gone);
        if let Some(entry) = self.devices.remove(&id) {
            self.inbound_bytes -= entry.inbound.iter().map(|(_, d)| d.len()).sum::<usize>();
        }
    }
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
    /// An empty registry keeping up to `inbound_queue_len` DATA messages per device,
    /// `inbound_bytes_limit` bytes of DATA in all, and up to `max_offline_devices` devices
    /// after they disconnect (the fields of [`GatewayConfig`](crate::GatewayConfig) of the
    /// same names).
    pub fn new(
        inbound_queue_len: usize,
        inbound_bytes_limit: usize,
        max_offline_devices: usize,
    ) -> Registry {
        Registry {
            state: Mutex::new(State::default()),
            next_session: AtomicU64::new(1),
            inbound_queue_len,
            inbound_bytes_limit,
            max_offline_devices,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave an entry half-written in a way that
        // matters more than losing the registry, so keep serving.
        self.state
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
        let mut guard = self.lock();
        let state = &mut *guard;
        let replaced = match state.devices.get_mut(&info.device_id) {
            Some(entry) => {
                if let Some(gone) = entry.gone.take() {
                    state.offline.remove(&gone);
                    state.offline_with_data.remove(&gone);
                }
                let old = entry.live.replace(live);
                let replaced = old.is_some();
                if let Some(old) = old {
                    old.taken_over.cancel();
                }
                info.data_queued = entry.inbound.len();
                info.data_dropped = entry.info.data_dropped;
                entry.info = info;
                replaced
            }
            None => {
                state.devices.insert(
                    info.device_id.clone(),
                    Entry {
                        info,
                        live: Some(live),
                        inbound: VecDeque::new(),
                        gone: None,
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

    /// Ends session `session_id` of `device_id` with `new_state`; does nothing if a newer
    /// session has taken over. Forgets the longest-gone device when more than
    /// `max_offline_devices` are offline.
    pub fn unregister(&self, device_id: &str, session_id: u64, new_state: DeviceState) {
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(entry) = state.devices.get_mut(device_id) else {
            return;
        };
        if entry.info.session_id != session_id || entry.gone.is_some() {
            return;
        }
        entry.live = None;
        entry.info.state = new_state;
        let gone = state.next_departure;
        state.next_departure += 1;
        entry.gone = Some(gone);
        if !entry.inbound.is_empty() {
            state.offline_with_data.insert(gone, device_id.to_owned());
        }
        state.offline.insert(gone, device_id.to_owned());
        while state.offline.len() > self.max_offline_devices {
            state.forget_longest_gone();
        }
    }

    /// Updates the record of session `session_id` (frames, last seen, uptime).
    pub fn update(&self, device_id: &str, session_id: u64, f: impl FnOnce(&mut DeviceInfo)) {
        if let Some(entry) = self.lock().devices.get_mut(device_id)
            && entry.info.session_id == session_id
        {
            f(&mut entry.info);
        }
    }

    /// Marks a frame from the device: updates `last_seen` and `frames_in`.
    pub fn seen(&self, device_id: &str, session_id: u64) {
        let now = SystemTime::now();
        self.update(device_id, session_id, |info| {
            info.frames_in += 1;
            info.last_seen = now;
        });
    }

    /// Queues DATA received from the device; drops the oldest when the device's queue or the
    /// byte budget is full (see [`Registry`]).
    pub fn push_inbound(&self, device_id: &str, data: Bytes) {
        let now = SystemTime::now();
        let mut guard = self.lock();
        let state = &mut *guard;
        if !state.devices.contains_key(device_id) {
            return;
        }
        while state.inbound_bytes + data.len() > self.inbound_bytes_limit {
            let victim = match state.offline_with_data.first_key_value() {
                Some((_, id)) => id.clone(),
                None if state
                    .devices
                    .get(device_id)
                    .is_some_and(|e| !e.inbound.is_empty()) =>
                {
                    device_id.to_owned()
                }
                None => break,
            };
            state.drop_oldest(&victim);
        }
        let fits = state.inbound_bytes + data.len() <= self.inbound_bytes_limit;
        let Some(entry) = state.devices.get_mut(device_id) else {
            return;
        };
        if !fits {
            entry.info.data_dropped += 1;
            return;
        }
        if entry.inbound.len() >= self.inbound_queue_len {
            if let Some((_, old)) = entry.inbound.pop_front() {
                state.inbound_bytes -= old.len();
            }
            entry.info.data_dropped += 1;
        }
        state.inbound_bytes += data.len();
        entry.inbound.push_back((now, data));
        entry.info.data_queued = entry.inbound.len();
    }

    /// Takes the queued DATA of a device (receive time, bytes), oldest first; `None` for an
    /// unknown device.
    pub fn drain_inbound(&self, device_id: &str) -> Option<Vec<(String, Bytes)>> {
        let drained = {
            let mut guard = self.lock();
            let state = &mut *guard;
            let entry = state.devices.get_mut(device_id)?;
            entry.info.data_queued = 0;
            if let Some(gone) = entry.gone {
                state.offline_with_data.remove(&gone);
            }
            let drained = std::mem::take(&mut entry.inbound);
            state.inbound_bytes -= drained.iter().map(|(_, d)| d.len()).sum::<usize>();
            drained
        };
        Some(
            drained
                .into_iter()
                .map(|(at, data)| (rfc3339(at), data))
                .collect(),
        )
    }

    /// Bytes of DATA held for all devices.
    pub fn inbound_bytes(&self) -> usize {
        self.lock().inbound_bytes
    }

    /// The command channel of a connected device.
    pub fn commands(&self, device_id: &str) -> Option<mpsc::Sender<Command>> {
        self.lock()
            .devices
            .get(device_id)
            .and_then(|entry| entry.live.as_ref().map(|live| live.commands.clone()))
    }

    /// Connected devices, sorted by id.
    pub fn connected(&self) -> Vec<DeviceInfo> {
        let mut list: Vec<DeviceInfo> = self
            .lock()
            .devices
            .values()
            .filter(|entry| entry.live.is_some())
            .map(|entry| entry.info.clone())
            .collect();
        list.sort_by(|a, b| a.device_id.cmp(&b.device_id));
        list
    }

    /// A device's record, connected or not.
    pub fn get(&self, device_id: &str) -> Option<DeviceInfo> {
        self.lock()
            .devices
            .get(device_id)
            .map(|entry| entry.info.clone())
    }

    /// Number of connected devices.
    pub fn connected_count(&self) -> usize {
        let state = self.lock();
        state.devices.len() - state.offline.len()
    }

    /// Number of devices remembered after they disconnected (at most `max_offline_devices`).
    pub fn offline_count(&self) -> usize {
        self.lock().offline.len()
    }
}

fn serialize_rfc3339<S: Serializer>(time: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&rfc3339(*time))
}

/// RFC 3339 UTC with seconds.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    time::OffsetDateTime::from(time)
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::from(time))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(queue: usize, bytes: usize) -> Registry {
        Registry::new(queue, bytes, DEFAULT_MAX_OFFLINE_DEVICES)
    }

    fn connect(registry: &Registry, id: &str) -> (u64, mpsc::Receiver<Command>) {
        let (tx, rx) = mpsc::channel(1);
        let info = DeviceInfo::new(
            id.into(),
            String::new(),
            "127.0.0.1:1".parse().unwrap(),
            String::new(),
            String::new(),
            None,
        );
        (registry.register(info, tx).session_id, rx)
    }

    #[test]
    fn the_byte_budget_drops_offline_data_first() {
        let r = registry(10, 10);
        let (gone, _rx) = connect(&r, "gone");
        r.push_inbound("gone", Bytes::from_static(b"12345"));
        r.unregister("gone", gone, DeviceState::Disconnected);
        let (_live, _rx2) = connect(&r, "live");
        r.push_inbound("live", Bytes::from_static(b"abcde"));
        assert_eq!(r.inbound_bytes(), 10);
        // Over budget: the disconnected device's message goes first.
        r.push_inbound("live", Bytes::from_static(b"fghij"));
        assert_eq!(r.get("gone").unwrap().data_dropped, 1);
        assert_eq!(r.get("live").unwrap().data_queued, 2);
        // Then the sender's own oldest.
        r.push_inbound("live", Bytes::from_static(b"klmno"));
        assert_eq!(r.get("live").unwrap().data_dropped, 1);
        let texts: Vec<_> = r
            .drain_inbound("live")
            .unwrap()
            .into_iter()
            .map(|(_, d)| d)
            .collect();
        assert_eq!(
            texts,
            [Bytes::from_static(b"fghij"), Bytes::from_static(b"klmno")]
        );
        assert_eq!(r.inbound_bytes(), 0);
        // A message larger than the whole budget is dropped, not stored.
        r.push_inbound("live", Bytes::from(vec![0; 11]));
        assert_eq!(r.inbound_bytes(), 0);
        assert_eq!(r.get("live").unwrap().data_dropped, 2);
    }

    #[test]
    fn the_queue_length_drops_the_oldest() {
        let r = registry(2, 1 << 20);
        let (_s, _rx) = connect(&r, "d");
        for b in [b"a", b"b", b"c"] {
            r.push_inbound("d", Bytes::from_static(b));
        }
        let info = r.get("d").unwrap();
        assert_eq!((info.data_queued, info.data_dropped), (2, 1));
        assert_eq!(r.inbound_bytes(), 2);
    }

    #[test]
    fn the_longest_gone_is_forgotten_first_and_connected_devices_never() {
        let r = Registry::new(4, 1 << 20, 2);
        let (_live, _rx) = connect(&r, "live");
        for id in ["a", "b", "c"] {
            let (session, _rx) = connect(&r, id);
            r.unregister(id, session, DeviceState::Disconnected);
        }
        assert!(r.get("a").is_none(), "a left first and is forgotten");
        assert!(r.get("b").is_some() && r.get("c").is_some());
        assert_eq!((r.connected_count(), r.offline_count()), (1, 2));
        // Coming back takes b off the offline list; d leaving then pushes out c, not b.
        let (b, _rx) = connect(&r, "b");
        let (d, _rx2) = connect(&r, "d");
        r.unregister("d", d, DeviceState::Disconnected);
        r.unregister("b", b, DeviceState::Disconnected);
        assert!(r.get("c").is_none());
        assert!(r.get("d").is_some() && r.get("b").is_some() && r.get("live").is_some());
        assert_eq!(r.get("b").unwrap().state, DeviceState::Disconnected);
    }

    #[test]
    fn forgetting_a_device_releases_its_bytes_and_the_budget_skips_drained_devices() {
        let r = Registry::new(4, 10, 1);
        let (a, _rx) = connect(&r, "a");
        r.push_inbound("a", Bytes::from_static(b"aaaa"));
        r.unregister("a", a, DeviceState::Disconnected);
        let (b, _rx) = connect(&r, "b");
        r.push_inbound("b", Bytes::from_static(b"bbbb"));
        r.unregister("b", b, DeviceState::Disconnected);
        assert!(r.get("a").is_none());
        assert_eq!(r.inbound_bytes(), 4);
        // b's DATA, read by the API, no longer counts as a victim for the budget.
        assert_eq!(r.drain_inbound("b").unwrap().len(), 1);
        let (_c, _rx) = connect(&r, "c");
        for _ in 0..3 {
            r.push_inbound("c", Bytes::from_static(b"cccc"));
        }
        let c = r.get("c").unwrap();
        assert_eq!((c.data_queued, c.data_dropped), (2, 1));
        assert_eq!(r.get("b").unwrap().data_dropped, 0);
        assert_eq!(r.inbound_bytes(), 8);
    }

    #[test]
    fn times_serialize_as_rfc3339_seconds() {
        let r = registry(1, 1);
        let (_s, _rx) = connect(&r, "d");
        let json = serde_json::to_value(r.get("d").unwrap()).unwrap();
        for field in ["connected_at", "last_seen"] {
            let text = json[field].as_str().unwrap();
            assert!(
                text.len() == 20 && text.ends_with('Z') && text.as_bytes()[10] == b'T',
                "{field}: {text}"
            );
        }
    }
}
