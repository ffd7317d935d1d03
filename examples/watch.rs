//! Watch topics with the library: subscribe to filters and print `topic payload` lines until
//! Ctrl+C, like `mqtt-cli sub -v`.
//!
//! ```text
//! cargo run --example watch -- [HOST] [PORT] [FILTER...]
//! ```

use anyhow::{Context, Result, bail};
use mqtt_cli::client::{Qos, Session, SessionEvent, SessionOptions};
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
    let mut filters: Vec<String> = args.collect();
    if filters.is_empty() {
        filters.push("#".to_string());
    }
    for filter in &filters {
        mqtt_cli::topic::validate_topic_filter(filter).map_err(anyhow::Error::msg)?;
    }

    let settings = ConnectSettings::tcp(host, port);
    let mut session = Session::connect(&settings, SessionOptions::default()).await?;
    session.subscribe(&filters, Qos::AtLeastOnce).await?;
    loop {
        tokio::select! {
            event = session.next_event() => match event {
                Some(SessionEvent::Subscribed(granted)) => {
                    for (filter, qos) in filters.iter().zip(granted) {
                        match qos {
                            Ok(qos) => eprintln!("watching {filter} (QoS {})", qos as u8),
                            Err(reason) => bail!("the broker refused the subscription to {filter}: {reason}"),
                        }
                    }
                }
                Some(SessionEvent::Message(received)) => {
                    let message = received.message;
                    println!("{} {}", message.topic, String::from_utf8_lossy(&message.payload));
                }
                Some(SessionEvent::Lost(err)) => return Err(err),
                Some(_) => {}
                None => bail!("connection closed"),
            },
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    session.disconnect().await?;
    Ok(())
}
