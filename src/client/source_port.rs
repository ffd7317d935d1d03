//! Local ports chosen by us for `bench`'s thousands of connections to one broker. Left to the
//! kernel, each connect() searches the ephemeral range for a port whose four-tuple is free, and
//! with one source address and one broker that search walks past every port already taken
//! (measured: 19,000 connections at 3,839/s, two thirds of the time in the kernel's
//! `__inet_check_established`). Binding each socket to the next port of a shared cursor makes
//! that a single lookup; a port someone else holds is skipped, and after a few the kernel
//! chooses as before.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::net::TcpSocket;

/// Ports tried before leaving the choice to the kernel.
const TRIES: u32 = 16;

/// The ephemeral range (`ip_local_port_range`), and the cursor, which starts at a random place
/// in it so that two processes do not walk the same ports.
struct Cursor {
    low: u32,
    count: u32,
    next: AtomicU32,
}

fn cursor() -> &'static Cursor {
    static CURSOR: OnceLock<Cursor> = OnceLock::new();
    CURSOR.get_or_init(|| {
        let (low, high) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|text| {
                let mut ends = text.split_whitespace().map(str::parse::<u32>);
                Some((ends.next()?.ok()?, ends.next()?.ok()?))
            })
            .filter(|(low, high)| 0 < *low && low < high && *high <= 65535)
            .unwrap_or((32768, 60999));
        let count = high - low + 1;
        Cursor {
            low,
            count,
            next: AtomicU32::new(fastrand::u32(..count)),
        }
    })
}

/// Binds `socket` to the next free port of the range, on `ip` (or every address of the
/// family); false when none of a few was free (the caller binds as it would have).
pub(super) fn bind(socket: &TcpSocket, ip: Option<IpAddr>, ipv4: bool) -> bool {
    let ip = ip.unwrap_or(if ipv4 {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    });
    let cursor = cursor();
    for _ in 0..TRIES {
        let offset = cursor.next.fetch_add(1, Ordering::Relaxed) % cursor.count;
        let port = u16::try_from(cursor.low + offset).unwrap_or(0);
        match socket.bind(SocketAddr::new(ip, port)) {
            Ok(()) => return true,
            Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => continue,
            Err(_) => return false,
        }
    }
    false
}
