//! The project's seed, written with the library: toggle an LED (an ESP8266 listening on a topic)
//! by publishing `1` and `0` in turn, once a second, until Ctrl+C. Every message is acknowledged
//! (QoS 1) before the program disconnects.
//!
//! ```text
//! cargo run --example blink -- [HOST] [PORT] [TOPIC]
//! ```
//! The command-line equivalent: `mqtt-cli pub -t led -m 1 -m 0 --repeat 0 --interval 1s -q 1`.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use mqtt_cli::client::{Message, Qos, Session, SessionEvent, SessionOptions};
use mqtt_cli::settings::ConnectSettings;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let host = args.next().unwrap_or_else(|| "localhost".to_string());
    let port = match args.next() {
        Some(port) => port
            .parse()
            .context("PORT must be a number from 1 to 65535")?,
        None => 1883,
    };
    let topic = args.next().unwrap_or_else(|| "led".to_string());

    let settings = ConnectSettings::tcp(host, port);
    let mut session = Session::connect(&settings, SessionOptions::default()).await?;
    let publisher = session.publisher();
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    let (mut sent, mut acknowledged) = (0u64, 0u64);
    let mut on = true;
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                let payload = Bytes::from_static(if on { b"1" } else { b"0" });
                publisher
                    .publish(Message::new(topic.clone(), payload, Qos::AtLeastOnce, false))
                    .await?;
                println!("LED {}", if on { "on" } else { "off" });
                sent += 1;
                on = !on;
            }
            event = session.next_event() => match event {
                Some(SessionEvent::Published(Ok(()))) => acknowledged += 1,
                Some(SessionEvent::Published(Err(reason))) => bail!("the broker refused a message: {reason}"),
                Some(SessionEvent::Lost(err)) => return Err(err),
                None => bail!("connection closed"),
                Some(_) => {}
            },
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    // Ctrl+C: wait for the acknowledgements still owed, then say goodbye.
    while acknowledged < sent {
        match session.next_event().await {
            Some(SessionEvent::Published(Ok(()))) => acknowledged += 1,
            Some(SessionEvent::Published(Err(reason))) => {
                bail!("the broker refused a message: {reason}")
            }
            Some(SessionEvent::Lost(err)) => return Err(err),
            None => bail!(
                "connection closed with {} message(s) unacknowledged",
                sent - acknowledged
            ),
            Some(_) => {}
        }
    }
    session.disconnect().await?;
    eprintln!("{sent} message(s) published and acknowledged");
    Ok(())
}
