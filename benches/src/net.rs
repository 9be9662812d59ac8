//! Connecting on loopback only, from several source addresses when one runs out of ports, and
//! raising the open-file limit.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpSocket, TcpStream};

/// The most loopback source addresses (`127.0.0.1` to `127.0.0.N`) a tool may spread its
/// connections over.
pub const MAX_SOURCE_ADDRS: u8 = 254;

/// The target is not a loopback address; these tools send traffic to this machine only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{addr} is not a loopback address; the load tools only target this machine (127.0.0.0/8 or ::1)"
)]
pub struct NotLoopback {
    /// The refused address.
    pub addr: SocketAddr,
}

/// Accepts only loopback targets (`127.0.0.0/8`, `::1`).
///
/// # Errors
///
/// [`NotLoopback`] for any other address.
pub fn check_loopback(addr: SocketAddr) -> Result<SocketAddr, NotLoopback> {
    if addr.ip().is_loopback() {
        Ok(addr)
    } else {
        Err(NotLoopback { addr })
    }
}

/// Source addresses used in turn; an empty set lets the kernel choose (one address, about
/// 28,000 ephemeral ports with Linux's default range).
#[derive(Debug, Default)]
pub struct SourceAddrs {
    addrs: Vec<IpAddr>,
    next: AtomicUsize,
}

impl SourceAddrs {
    /// `127.0.0.1` to `127.0.0.count` for an IPv4 target, none (the kernel's choice) for
    /// `count` 0 or an IPv6 target (IPv6 has one loopback address).
    ///
    /// # Errors
    ///
    /// A message when `count` is over [`MAX_SOURCE_ADDRS`].
    pub fn loopback(target: SocketAddr, count: u8) -> Result<SourceAddrs, String> {
        if count > MAX_SOURCE_ADDRS {
            return Err(format!(
                "at most {MAX_SOURCE_ADDRS} source addresses (127.0.0.1..127.0.0.{MAX_SOURCE_ADDRS})"
            ));
        }
        let addrs = if target.is_ipv4() {
            (1..=count)
                .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, i)))
                .collect()
        } else {
            Vec::new()
        };
        Ok(SourceAddrs {
            addrs,
            next: AtomicUsize::new(0),
        })
    }

    /// The addresses, in the order they are used.
    pub fn addrs(&self) -> &[IpAddr] {
        &self.addrs
    }

    /// The next source address, or `None` for the kernel's choice.
    pub fn next(&self) -> Option<IpAddr> {
        if self.addrs.is_empty() {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.addrs.len();
        Some(self.addrs[i])
    }
}

/// Opens a TCP connection to `target` from `source` (any port) with `TCP_NODELAY` as given.
///
/// # Errors
///
/// The socket, bind or connect error.
pub async fn connect(
    target: SocketAddr,
    source: Option<IpAddr>,
    nodelay: bool,
) -> io::Result<TcpStream> {
    let stream = match source {
        None => TcpStream::connect(target).await?,
        Some(ip) => {
            let socket = if target.is_ipv4() {
                TcpSocket::new_v4()?
            } else {
                TcpSocket::new_v6()?
            };
            // Lets bind pick a port still in TIME_WAIT from an earlier connection; connect
            // then fails only if the whole 4-tuple is taken.
            socket.set_reuseaddr(true)?;
            socket.bind(SocketAddr::new(ip, 0))?;
            socket.connect(target).await?
        }
    };
    stream.set_nodelay(nodelay)?;
    Ok(stream)
}

/// Raises this process's soft open-file limit to its hard limit; returns `(before, after)`.
///
/// # Errors
///
/// The `getrlimit`/`setrlimit` error.
pub fn raise_nofile_limit() -> io::Result<(u64, u64)> {
    let (soft, hard) = rlimit::Resource::NOFILE.get()?;
    if soft < hard {
        rlimit::Resource::NOFILE.set(hard, hard)?;
    }
    Ok((soft, rlimit::Resource::NOFILE.get()?.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_pass() {
        for ok in ["127.0.0.1:1", "127.9.8.7:443", "[::1]:8081"] {
            assert!(check_loopback(ok.parse().unwrap()).is_ok(), "{ok}");
        }
        for bad in [
            "10.0.0.1:1",
            "192.168.1.1:443",
            "[2001:db8::1]:1",
            "0.0.0.0:1",
        ] {
            let e = check_loopback(bad.parse().unwrap()).unwrap_err();
            assert!(e.to_string().contains("not a loopback address"), "{bad}");
        }
    }

    #[test]
    fn source_addresses_rotate() {
        let target = "127.0.0.1:8081".parse().unwrap();
        let sources = SourceAddrs::loopback(target, 3).unwrap();
        let got: Vec<_> = (0..4)
            .map(|_| sources.next().unwrap().to_string())
            .collect();
        assert_eq!(got, ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.1"]);
        assert_eq!(SourceAddrs::loopback(target, 0).unwrap().next(), None);
        let v6 = "[::1]:8081".parse().unwrap();
        assert_eq!(SourceAddrs::loopback(v6, 4).unwrap().next(), None);
        assert!(SourceAddrs::loopback(target, 255).is_err());
    }

    #[tokio::test]
    async fn connects_from_a_chosen_loopback_address() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = listener.local_addr().unwrap();
        let source: IpAddr = "127.0.0.2".parse().unwrap();
        let (stream, accepted) =
            tokio::join!(connect(target, Some(source), true), listener.accept());
        let stream = stream.unwrap();
        assert_eq!(stream.local_addr().unwrap().ip(), source);
        assert!(stream.nodelay().unwrap());
        assert_eq!(accepted.unwrap().1.ip(), source);
    }
}
