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
use std::time::SystemTime;

use bytes::Bytes;
use serde::{Serialize, Serializer};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::command::{self, Command, DeviceHandle};
use crate::config::GatewayConfig;
use crate::rfc3339::rfc3339;
use crate::tls_params::{CipherSuite, TlsVersion};

/// A device's connection state (`"connected"`, `"unreachable"`, `"disconnected"` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
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
#[non_exhaustive]
pub struct DeviceInfo {
    /// The id from HELLO.
    pub device_id: String,
    /// Connection state.
    pub state: DeviceState,
    /// Firmware version from HELLO.
    pub firmware_version: String,
    /// The device's address as the gateway sees it.
    pub peer_addr: SocketAddr,
    /// Negotiated TLS version; `"TLSv1.3"` or `"TLSv1.2"` in JSON.
    pub tls_version: TlsVersion,
    /// Negotiated cipher suite; its name in JSON, e.g. `"TLS13_AES_128_GCM_SHA256"`.
    pub cipher_suite: CipherSuite,
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
        tls_version: TlsVersion,
        cipher_suite: CipherSuite,
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
    commands: DeviceHandle,
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
    outbound_queue_len: usize,
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

/// What registering a new session gives it (its id, and whether it took an older one over).
#[derive(Debug)]
pub struct Registration {
    /// The session's id.
    pub session_id: u64,
    /// Whether an older session was taken over.
    pub replaced: bool,
    /// Cancelled when a newer session for the same device takes over.
    pub(crate) taken_over: CancellationToken,
    /// What the API asks of the session ([`Registry::device`] is the sending end).
    pub(crate) commands: mpsc::Receiver<Command>,
}

impl Registry {
    /// An empty registry with the limits of `config`: `outbound_queue_len` commands queued
    /// per session, `inbound_queue_len` DATA messages kept per device,
    /// `inbound_bytes_limit` bytes of DATA in all, and `max_offline_devices` devices
    /// remembered after they disconnect.
    pub fn new(config: &GatewayConfig) -> Registry {
        Registry {
            state: Mutex::new(State::default()),
            next_session: AtomicU64::new(1),
            outbound_queue_len: config.outbound_queue_len,
            inbound_queue_len: config.inbound_queue_len,
            inbound_bytes_limit: config.inbound_bytes_limit,
            max_offline_devices: config.max_offline_devices,
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
    /// told to leave (newest wins). The session's command queue holds `outbound_queue_len`
    /// commands.
    pub(crate) fn register(&self, mut info: DeviceInfo) -> Registration {
        let session_id = self.next_session.fetch_add(1, Ordering::Relaxed);
        info.session_id = session_id;
        let taken_over = CancellationToken::new();
        let (commands, receiver) = command::queue(self.outbound_queue_len);
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
            replaced,
            taken_over,
            commands: receiver,
        }
    }

    /// Ends session `session_id` of `device_id` with `new_state`; does nothing if a newer
    /// session has taken over. Forgets the longest-gone device when more than
    /// `max_offline_devices` are offline.
    pub(crate) fn unregister(&self, device_id: &str, session_id: u64, new_state: DeviceState) {
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
    pub(crate) fn update(&self, device_id: &str, session_id: u64, f: impl FnOnce(&mut DeviceInfo)) {
        if let Some(entry) = self.lock().devices.get_mut(device_id)
            && entry.info.session_id == session_id
        {
            f(&mut entry.info);
        }
    }

    /// Marks a frame from the device: updates `last_seen` and `frames_in`.
    pub(crate) fn seen(&self, device_id: &str, session_id: u64) {
        let now = SystemTime::now();
        self.update(device_id, session_id, |info| {
            info.frames_in += 1;
            info.last_seen = now;
        });
    }

    /// Queues DATA received from the device; drops the oldest when the device's queue or the
    /// byte budget is full (see [`Registry`]).
    pub(crate) fn push_inbound(&self, device_id: &str, data: Bytes) {
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
    pub fn drain_inbound(&self, device_id: &str) -> Option<Vec<(SystemTime, Bytes)>> {
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
        Some(drained.into())
    }

    /// Bytes of DATA held for all devices.
    pub fn inbound_bytes(&self) -> usize {
        self.lock().inbound_bytes
    }

    /// A handle to send DATA and ECHO to a connected device; `None` when it is not connected.
    pub fn device(&self, device_id: &str) -> Option<DeviceHandle> {
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

/// The session layer's registry operations, for the project's own benchmarks
/// (`benches/benches/registry.rs`). Not part of the stable API: behind the
/// `unstable-internals` feature, hidden from the docs, and free to change in any release.
/// A program embedding the gateway must not use them: a registration made here has no session
/// behind it, and takes over the live session of the same id.
#[cfg(feature = "unstable-internals")]
#[doc(hidden)]
impl Registry {
    pub fn internal_register(&self, info: DeviceInfo) -> Registration {
        self.register(info)
    }

    pub fn internal_unregister(&self, device_id: &str, session_id: u64, new_state: DeviceState) {
        self.unregister(device_id, session_id, new_state)
    }

    pub fn internal_seen(&self, device_id: &str, session_id: u64) {
        self.seen(device_id, session_id)
    }

    pub fn internal_push_inbound(&self, device_id: &str, data: Bytes) {
        self.push_inbound(device_id, data)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::command::CommandError;

    fn limits(queue: usize, bytes: usize, offline: usize) -> Registry {
        Registry::new(
            &GatewayConfig::default()
                .with_inbound_queue_len(queue)
                .with_inbound_bytes_limit(bytes)
                .with_max_offline_devices(offline),
        )
    }

    fn registry(queue: usize, bytes: usize) -> Registry {
        limits(queue, bytes, crate::config::DEFAULT_MAX_OFFLINE_DEVICES)
    }

    fn connect(registry: &Registry, id: &str) -> (u64, Registration) {
        let info = DeviceInfo::new(
            id.into(),
            String::new(),
            "127.0.0.1:1".parse().unwrap(),
            TlsVersion::Tls13,
            CipherSuite::new("TLS13_AES_128_GCM_SHA256"),
            None,
        );
        let registration = registry.register(info);
        (registration.session_id, registration)
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
        let r = limits(4, 1 << 20, 2);
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
        let r = limits(4, 10, 1);
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

    #[tokio::test]
    async fn a_device_handle_queues_up_to_the_limit_and_outlives_its_session() {
        let r = Registry::new(&GatewayConfig::default().with_outbound_queue_len(1));
        assert!(r.device("d").is_none(), "never connected");
        let (_session, mut registration) = connect(&r, "d");
        let device = r.device("d").unwrap();
        device.try_send_data(Bytes::from_static(b"one")).unwrap();
        assert_eq!(
            device.try_send_data(Bytes::from_static(b"two")),
            Err(CommandError::QueueFull)
        );
        match registration.commands.recv().await {
            Some(Command::Data(data)) => assert_eq!(data, Bytes::from_static(b"one")),
            other => panic!("expected DATA, got {other:?}"),
        }
        let echo = device.try_echo(Bytes::from_static(b"ping")).unwrap();
        let Some(Command::Echo { payload, reply }) = registration.commands.recv().await else {
            panic!("expected ECHO");
        };
        let rtt = Duration::from_millis(3);
        reply.send((rtt, payload)).unwrap();
        assert_eq!(echo.wait().await, Some((rtt, Bytes::from_static(b"ping"))));
        // The session ends: the handle says so instead of queueing into nothing.
        drop(registration);
        assert_eq!(
            device.try_send_data(Bytes::from_static(b"late")),
            Err(CommandError::Disconnected)
        );
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
