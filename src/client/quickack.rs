//! Acknowledge what the broker sends at once (TCP_QUICKACK; was rumqttc patches 15 and 18).
//!
//! Linux delays the ACK of a received segment (up to 40 ms) hoping to piggyback it on data.
//! A client that reads and then has nothing to send (a subscriber, or a publisher waiting for
//! its acknowledgement) makes a broker that leaves Nagle's algorithm on (mosquitto's default)
//! hold its next small packet until that delayed ACK comes: 40 ms per round trip, and in a TLS
//! handshake the CONNACK waits behind the session tickets. TCP_QUICKACK sends the ACK at once;
//! the flag is not permanent, hence set each time.
//!
//! While connecting (the first reads: TLS handshake, session tickets, CONNACK) after every read
//! that got data, as it is cheap there and the TLS flight is read inside rustls, whose reads we
//! do not see end. Afterwards only when it is owed: data was read, nothing has been written
//! since (a write carries the ACK), and the reader is about to wait (a read found nothing). The event loop handles what
//! it has read and writes its replies before it reads again (`Network::readb` does not ask the
//! socket for more once its buffer is empty), so a publisher in full flow, which answers every
//! read with a write, makes no extra system call and sends no extra packet.
//!
//! After connecting, the socket stays in Linux's delayed-ACK ("pingpong")
//! mode, where Linux does not ACK every read that empties the buffer of a one-way flow by
//! itself; the owed ACK for a flow (a kilobyte or more read since the last ACK) goes out at
//! most once a millisecond (one held back goes out when the millisecond is up, a timer wakes
//! the reader for it); fewer bytes are acknowledged at once, as the broker's Nagle waits for
//! that ACK before it sends its next small packet (a QoS 2 publisher reading PUBCOMPs ran 2.4x
//! slower when those ACKs were held too). A subscriber in full flow sent an ACK
//! per read, and on loopback paid for the broker's side of it too: 37% of its thread, and 73 000
//! messages/s instead of 92 000-113 000 (`bench pub -c 4 --rate max`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

pub(super) struct QuickAck {
    stream: TcpStream,
    /// Data was read and no write has carried its ACK yet.
    ack_owed: bool,
    /// Bytes read since the last ACK (ours, or carried by a write).
    owed_bytes: usize,
    /// Reads with data so far, up to `EAGER_READS`.
    reads: u8,
    /// When we last sent an ACK ourselves.
    last_ack: Option<Instant>,
    /// An owed ACK held back until `ACK_GAP` after the last: wakes the reader then.
    held: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// the shortest time between two ACKs we send on our own.
const ACK_GAP: Duration = Duration::from_millis(1);

/// less than this read since the last ACK is acknowledged at once, however
/// soon after the last: the broker sent a few small packets (acknowledgements, a message), and
/// with Nagle's algorithm it sends nothing small until they are acknowledged. More is a flow,
/// whose sender is not held up by an ACK a millisecond late.
const SMALL_READ: usize = 1024;

/// Reads acknowledged at once, whatever follows: enough for a TLS handshake, the session
/// tickets and the CONNACK.
const EAGER_READS: u8 = 16;

impl QuickAck {
    pub(super) fn new(stream: TcpStream) -> Self {
        QuickAck {
            stream,
            ack_owed: false,
            owed_bytes: 0,
            reads: 0,
            last_ack: None,
            held: None,
        }
    }

    /// A write that sent data carries the ACK owed.
    fn wrote(&mut self, written: &Poll<io::Result<usize>>) {
        if matches!(written, Poll::Ready(Ok(n)) if *n > 0) {
            self.ack_owed = false;
            self.owed_bytes = 0;
            self.held = None;
        }
    }

    fn acknowledge_now(&mut self) {
        self.ack_owed = false;
        self.owed_bytes = 0;
        self.held = None;
        self.last_ack = Some(Instant::now());
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let socket = socket2::SockRef::from(&self.stream);
            let _ = socket.set_tcp_quickack(true);
            // Connected, back to delayed ACKs (the ACK above is sent).
            if self.reads >= EAGER_READS {
                let _ = socket.set_tcp_quickack(false);
            }
        }
    }

    /// The ACK owed now, or when `ACK_GAP` after the last one is up (the timer registered
    /// with `cx` wakes the reader, which comes back here).
    fn acknowledge_owed(&mut self, cx: &mut Context<'_>) {
        match held_until(Instant::now(), self.last_ack, self.owed_bytes) {
            Some(due) => {
                let held = self
                    .held
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(due.into())));
                if held.as_mut().poll(cx).is_ready() {
                    self.acknowledge_now();
                }
            }
            _ => self.acknowledge_now(),
        }
    }
}

/// when an owed ACK of `owed_bytes` is to go out, if not now: `ACK_GAP`
/// after the last one, for a flow only.
fn held_until(now: Instant, last_ack: Option<Instant>, owed_bytes: usize) -> Option<Instant> {
    let due = last_ack? + ACK_GAP;
    (now < due && owed_bytes >= SMALL_READ).then_some(due)
}

impl AsyncRead for QuickAck {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.stream).poll_read(cx, buf);
        match read {
            Poll::Ready(Ok(())) if buf.filled().len() > before && this.reads < EAGER_READS => {
                this.reads += 1;
                this.acknowledge_now();
            }
            Poll::Ready(Ok(())) if buf.filled().len() > before => {
                this.ack_owed = true;
                this.owed_bytes += buf.filled().len() - before;
            }
            Poll::Pending if this.ack_owed => this.acknowledge_owed(cx),
            _ => {}
        }
        read
    }
}

impl AsyncWrite for QuickAck {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write(cx, data);
        this.wrote(&written);
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.wrote(&written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_flow_waits_for_the_gap() {
        let now = Instant::now();
        let just_now = Some(now - Duration::from_micros(200));
        // A flow just acknowledged waits until the millisecond is up.
        assert_eq!(
            held_until(now, just_now, 64 * 1024),
            Some(now - Duration::from_micros(200) + ACK_GAP)
        );
        // A few small packets (acknowledgements the broker's Nagle holds the next behind)
        // are acknowledged at once.
        assert_eq!(held_until(now, just_now, 4 * 50), None);
        assert_eq!(held_until(now, just_now, SMALL_READ - 1), None);
        // The first ACK, or one a millisecond after the last, goes at once.
        assert_eq!(held_until(now, None, 64 * 1024), None);
        assert_eq!(held_until(now, Some(now - ACK_GAP), 64 * 1024), None);
    }
}
