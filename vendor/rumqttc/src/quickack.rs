//! mqtt-cli patch 15: acknowledge what the broker sends at once.
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

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

pub(crate) struct QuickAck {
    stream: TcpStream,
    /// Data was read and no write has carried its ACK yet.
    ack_owed: bool,
    /// Reads with data so far, up to `EAGER_READS`.
    reads: u8,
}

/// Reads acknowledged at once, whatever follows: enough for a TLS handshake, the session
/// tickets and the CONNACK.
const EAGER_READS: u8 = 16;

impl QuickAck {
    pub(crate) fn new(stream: TcpStream) -> Self {
        QuickAck {
            stream,
            ack_owed: false,
            reads: 0,
        }
    }

    fn acknowledge_now(&mut self) {
        self.ack_owed = false;
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let _ = socket2::SockRef::from(&self.stream).set_tcp_quickack(true);
        }
    }
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
            Poll::Ready(Ok(())) if buf.filled().len() > before => this.ack_owed = true,
            Poll::Pending if this.ack_owed => this.acknowledge_now(),
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
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            this.ack_owed = false;
        }
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            this.ack_owed = false;
        }
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
