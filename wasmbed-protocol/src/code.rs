//! The numbered codes of the wire: why a session ends ([`GoodbyeReason`]) and what went wrong
//! ([`ErrorCode`]).

use core::fmt;

/// Why a session ends: the `u8` payload of GOODBYE (`docs/protocol.md`, "Goodbye reasons").
///
/// Values without a name decode as [`Other`](GoodbyeReason::Other) and encode back to the same
/// byte, so a newer peer's reasons pass through. Decoding never produces `Other` with a value
/// that has a name (`Other(2)` encodes as 2, which decodes as
/// [`TakenOver`](GoodbyeReason::TakenOver)).
///
/// Non-exhaustive: a reason a later protocol revision names gets its own variant (and stops
/// decoding as `Other`), so a `match` needs a `_` arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GoodbyeReason {
    /// 0: an ordinary close (the device restarts, an operator asked for it).
    Normal,
    /// 1: the gateway is shutting down; the device reconnects later, with backoff.
    Shutdown,
    /// 2: a newer session for the same device id replaced this one.
    TakenOver,
    /// 3: no frame arrived for 3 heartbeat intervals.
    HeartbeatTimeout,
    /// 4: the peer broke the protocol (sent by the device to a misbehaving gateway; the
    /// gateway sends ERROR instead).
    ProtocolError,
    /// 5: the device's certificate is no longer accepted: after a reload of the client CAs or
    /// CRLs it is revoked or no longer issued by a trusted CA, or a resumed session's
    /// certificate has expired. Reconnecting with it fails; the device backs off to its
    /// longest delay.
    CredentialsRevoked,
    /// Any other value.
    Other(u8),
}

impl GoodbyeReason {
    /// The reason's byte on the wire.
    pub const fn to_u8(self) -> u8 {
        match self {
            GoodbyeReason::Normal => 0,
            GoodbyeReason::Shutdown => 1,
            GoodbyeReason::TakenOver => 2,
            GoodbyeReason::HeartbeatTimeout => 3,
            GoodbyeReason::ProtocolError => 4,
            GoodbyeReason::CredentialsRevoked => 5,
            GoodbyeReason::Other(b) => b,
        }
    }

    /// The reason with this byte; [`Other`](GoodbyeReason::Other) for values 6 to 255.
    pub const fn from_u8(b: u8) -> Self {
        match b {
            0 => GoodbyeReason::Normal,
            1 => GoodbyeReason::Shutdown,
            2 => GoodbyeReason::TakenOver,
            3 => GoodbyeReason::HeartbeatTimeout,
            4 => GoodbyeReason::ProtocolError,
            5 => GoodbyeReason::CredentialsRevoked,
            b => GoodbyeReason::Other(b),
        }
    }

    /// The reason's standard snake_case name, as logs, metrics and the gateway's API print it
    /// (`normal`, `shutdown`, `taken_over`, `heartbeat_timeout`, `protocol_error`,
    /// `credentials_revoked`); `other` for [`Other`](GoodbyeReason::Other), whose
    /// [`Display`](fmt::Display) adds the value.
    pub const fn as_str(self) -> &'static str {
        match self {
            GoodbyeReason::Normal => "normal",
            GoodbyeReason::Shutdown => "shutdown",
            GoodbyeReason::TakenOver => "taken_over",
            GoodbyeReason::HeartbeatTimeout => "heartbeat_timeout",
            GoodbyeReason::ProtocolError => "protocol_error",
            GoodbyeReason::CredentialsRevoked => "credentials_revoked",
            GoodbyeReason::Other(_) => "other",
        }
    }
}

/// Writes [`GoodbyeReason::as_str`]; `other (7)` for `Other(7)`.
impl fmt::Display for GoodbyeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GoodbyeReason::Other(b) => write!(f, "other ({b})"),
            known => f.write_str(known.as_str()),
        }
    }
}

/// What went wrong: the big-endian `u16` code of ERROR (`docs/protocol.md`, "Error codes").
///
/// Values without a name decode as [`Other`](ErrorCode::Other) and encode back to the same
/// value. Decoding never produces `Other` with a value that has a name.
///
/// Non-exhaustive: a code a later protocol revision names gets its own variant (and stops
/// decoding as `Other`), so a `match` needs a `_` arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 1: a frame is malformed: a length below 5, an unknown message type, a payload of the
    /// wrong size or content.
    MalformedFrame,
    /// 2: a frame's length is above the gateway's `max_frame_len`.
    FrameTooLarge,
    /// 3: a well-formed message the gateway does not accept now: a first frame that is not
    /// HELLO, a second HELLO, or a gateway-to-device type (HELLO_ACK, HEARTBEAT_ACK, ERROR)
    /// sent by a device.
    UnexpectedMessage,
    /// 4: the HELLO's protocol version is not one the gateway speaks.
    UnsupportedVersion,
    /// 5: the HELLO's device id breaks the [`DeviceId`](crate::DeviceId) rule (empty, longer
    /// than 64 bytes, a byte outside `[A-Za-z0-9._-]`, `..`, or a leading `.` or `-`).
    InvalidDeviceId,
    /// 6: with mTLS, the device certificate's CN differs from the HELLO's device id.
    DeviceIdMismatch,
    /// 7: no HELLO arrived within the hello timeout.
    HelloTimeout,
    /// 8: the gateway is at its connection limit, or the device's outbound queue is full.
    Overloaded,
    /// 9: the gateway failed internally.
    Internal,
    /// Any other value (including 0).
    Other(u16),
}

impl ErrorCode {
    /// The code's value on the wire.
    pub const fn to_u16(self) -> u16 {
        match self {
            ErrorCode::MalformedFrame => 1,
            ErrorCode::FrameTooLarge => 2,
            ErrorCode::UnexpectedMessage => 3,
            ErrorCode::UnsupportedVersion => 4,
            ErrorCode::InvalidDeviceId => 5,
            ErrorCode::DeviceIdMismatch => 6,
            ErrorCode::HelloTimeout => 7,
            ErrorCode::Overloaded => 8,
            ErrorCode::Internal => 9,
            ErrorCode::Other(v) => v,
        }
    }

    /// The code with this value; [`Other`](ErrorCode::Other) for 0 and for 10 to 65535.
    pub const fn from_u16(v: u16) -> Self {
        match v {
            1 => ErrorCode::MalformedFrame,
            2 => ErrorCode::FrameTooLarge,
            3 => ErrorCode::UnexpectedMessage,
            4 => ErrorCode::UnsupportedVersion,
            5 => ErrorCode::InvalidDeviceId,
            6 => ErrorCode::DeviceIdMismatch,
            7 => ErrorCode::HelloTimeout,
            8 => ErrorCode::Overloaded,
            9 => ErrorCode::Internal,
            v => ErrorCode::Other(v),
        }
    }

    /// The code's standard snake_case name (`malformed_frame`, `frame_too_large`,
    /// `unexpected_message`, `unsupported_version`, `invalid_device_id`, `device_id_mismatch`,
    /// `hello_timeout`, `overloaded`, `internal`); `other` for [`Other`](ErrorCode::Other),
    /// whose [`Display`](fmt::Display) adds the value.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedFrame => "malformed_frame",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::UnexpectedMessage => "unexpected_message",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::InvalidDeviceId => "invalid_device_id",
            ErrorCode::DeviceIdMismatch => "device_id_mismatch",
            ErrorCode::HelloTimeout => "hello_timeout",
            ErrorCode::Overloaded => "overloaded",
            ErrorCode::Internal => "internal",
            ErrorCode::Other(_) => "other",
        }
    }
}

/// Writes [`ErrorCode::as_str`]; `other (42)` for `Other(42)`.
impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorCode::Other(v) => write!(f, "other ({v})"),
            known => f.write_str(known.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ErrorCode, GoodbyeReason};
    use alloc::string::ToString;

    #[test]
    fn names_are_the_snake_case_names() {
        assert_eq!(GoodbyeReason::TakenOver.to_string(), "taken_over");
        assert_eq!(GoodbyeReason::Other(7).to_string(), "other (7)");
        assert_eq!(ErrorCode::InvalidDeviceId.to_string(), "invalid_device_id");
        assert_eq!(ErrorCode::Other(0).to_string(), "other (0)");
        for b in 0..=5 {
            assert_ne!(GoodbyeReason::from_u8(b).as_str(), "other");
        }
        for v in 1..=9 {
            assert_ne!(ErrorCode::from_u16(v).as_str(), "other");
        }
    }
}
