//! The 24 bytes at the start of every payload `bench pub` sends: a magic number, the
//! publisher's index, the message's sequence number and its send time (Unix nanoseconds; at a
//! fixed rate the time it was meant to be sent, so a stalled broker shows as latency instead of
//! as fewer samples). `bench sub` recognises them in load made by another `bench pub`.

use std::time::{SystemTime, UNIX_EPOCH};

/// The header's length: the smallest `--size`.
pub const HEADER_LEN: usize = 24;

const MAGIC: [u8; 4] = *b"mqb1";

/// One message's identity and send time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The publishing client's index (`%i`, after `--client-offset`).
    pub publisher: u32,
    /// 0, 1, 2... per publisher.
    pub sequence: u64,
    /// Unix time in nanoseconds.
    pub sent_ns: u64,
}

impl Header {
    /// Writes the header over the start of `payload` (at least [`HEADER_LEN`] bytes).
    pub fn write(&self, payload: &mut [u8]) {
        payload[..4].copy_from_slice(&MAGIC);
        payload[4..8].copy_from_slice(&self.publisher.to_be_bytes());
        payload[8..16].copy_from_slice(&self.sequence.to_be_bytes());
        payload[16..24].copy_from_slice(&self.sent_ns.to_be_bytes());
    }

    /// The header at the start of `payload`, if it has one.
    pub fn read(payload: &[u8]) -> Option<Header> {
        if payload.len() < HEADER_LEN || payload[..4] != MAGIC {
            return None;
        }
        let number = |range: std::ops::Range<usize>| {
            let mut bytes = [0u8; 8];
            bytes[8 - range.len()..].copy_from_slice(&payload[range]);
            u64::from_be_bytes(bytes)
        };
        Some(Header {
            publisher: number(4..8) as u32,
            sequence: number(8..16),
            sent_ns: number(16..24),
        })
    }
}

/// Now, as Unix nanoseconds.
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_foreign_payloads() {
        let header = Header {
            publisher: 7,
            sequence: 1 << 40,
            sent_ns: 1_795_334_400_123_456_789,
        };
        let mut payload = vec![0u8; 64];
        header.write(&mut payload);
        assert_eq!(Header::read(&payload), Some(header));
        assert_eq!(Header::read(&payload[..23]), None);
        assert_eq!(Header::read(b"21.5 degrees, not a bench payload"), None);
    }
}
