//! `mqtt-cli check`: a broker smoke test for CI. Each check opens its own clean sessions on
//! topics under one prefix, so checks cannot disturb each other and nothing is left behind (the
//! retained message is cleared whatever happens; no session outlives its connection).
//!
//! A check passes, fails with a reason, or is skipped with a reason. The run exits 0 only if
//! no chosen check failed, 8 otherwise, and with the connection's own exit code (3, 4, 5) when
//! it cannot connect at all.

mod report;
mod tls_facts;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use crate::cli::{CheckName, ProtocolVersion};
use crate::client::{
    Announced, AnnouncedValue, ConnectInfo, Message, Qos, Received, Session, SessionEvent,
    SessionOptions,
};
use crate::error::{ErrorKind, failure};
use crate::settings::{CheckSettings, Will};
use report::{Entry, Outcome, Report};

pub async fn run(settings: CheckSettings) -> Result<()> {
    let mut checker = Checker {
        base_id: format!("{}-", settings.connect.client_id.trim_end_matches('-')),
        settings: &settings,
        info: ConnectInfo::default(),
        sessions: 0,
    };
    let mut report = Report {
        broker: settings.connect.address(),
        transport: settings.connect.transport.to_string(),
        protocol: settings.connect.protocol.to_string(),
        topic_prefix: settings.topic_prefix.clone(),
        entries: Vec::new(),
    };

    // Each check, connecting included, ends within -W (and a moment to close). Everything
    // else needs a connection: without one, report why and exit as pub/sub would.
    let limit = settings.timeout + crate::commands::CLOSE_MARGIN;
    let connect_error = checker.connect_within(limit, &mut report).await;

    for &check in settings
        .checks
        .iter()
        .filter(|check| **check != CheckName::Connect)
    {
        let started = Instant::now();
        let outcome = if connect_error.is_some() {
            Outcome::skip("not connected")
        } else {
            // Each check keeps its own deadline and says what it got by then; this one also
            // bounds its connections and closes (a stopped broker answers none of them).
            match tokio::time::timeout(limit, checker.run(check)).await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(err)) => Outcome::fail(format!("{err:#}")),
                Err(_) => Outcome::fail(format!(
                    "did not finish within -W {}",
                    humantime::format_duration(settings.timeout)
                )),
            }
        };
        report.entries.push(Entry {
            name: name(check),
            outcome,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        });
    }

    write_report(&report, &settings)?;
    if let Some(err) = connect_error {
        return Err(err);
    }
    if report.passed() {
        return Ok(());
    }
    let failed: Vec<&str> = report
        .entries
        .iter()
        .filter(|entry| entry.outcome.status == report::Status::Fail)
        .map(|entry| entry.name.as_str())
        .collect();
    Err(failure(
        ErrorKind::Lost,
        format!("check failed: {}", failed.join(", ")),
    ))
}

/// The table on stderr (unless `-q`), the JSON on stdout with `--json`.
fn write_report(report: &Report, settings: &CheckSettings) -> Result<()> {
    if !settings.quiet {
        let mut stderr = std::io::stderr().lock();
        report
            .write_table(&mut stderr, settings.colour)
            .context("writing the report")?;
    }
    if settings.json {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        serde_json::to_writer(&mut stdout, &report.to_json()).context("writing the report")?;
        writeln!(stdout).context("writing the report")?;
    }
    Ok(())
}

/// The name a check has on the command line and in the report (clap's, the one source).
fn name(check: CheckName) -> String {
    use clap::ValueEnum;
    check.to_possible_value().map_or_else(
        || format!("{check:?}"),
        |value| value.get_name().to_string(),
    )
}

struct Checker<'a> {
    settings: &'a CheckSettings,
    /// Client ids are this plus a role and a number.
    base_id: String,
    /// What the first CONNACK said.
    info: ConnectInfo,
    sessions: u32,
}

/// Closes a check's session, waiting for the broker's close at most [`CLOSE_WAIT`]: each check
/// proves delivery by its own round trip, and a broker that stopped answering must not hold
/// the check past its -W.
async fn close(session: Session) {
    let _ = tokio::time::timeout(CLOSE_WAIT, session.disconnect()).await;
}

/// How long a check waits for the broker to close one of its connections.
const CLOSE_WAIT: Duration = Duration::from_millis(300);

/// Milliseconds since `start`.
fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

impl Checker<'_> {
    /// The first connection, within `limit`: its entry in the report (a failure always, a
    /// pass when `connect` was asked for), and the error that skips every other check.
    async fn connect_within(
        &mut self,
        limit: std::time::Duration,
        report: &mut Report,
    ) -> Option<anyhow::Error> {
        let settings = self.settings;
        let started = Instant::now();
        let connected = match tokio::time::timeout(limit, self.connect()).await {
            Ok(connected) => connected,
            Err(_) => Err(failure(
                ErrorKind::Connect,
                format!(
                    "no CONNACK within -W {}",
                    humantime::format_duration(settings.timeout)
                ),
            ))
            .with_context(|| format!("connecting to {}", settings.connect.place())),
        };
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (outcome, error) = match connected {
            Ok(outcome) => (outcome, None),
            Err(err) => (Outcome::fail(format!("{err:#}")), Some(err)),
        };
        if error.is_some() || settings.checks.contains(&CheckName::Connect) {
            report.entries.push(Entry {
                name: name(CheckName::Connect),
                outcome,
                duration_ms,
            });
        }
        error
    }

    async fn run(&mut self, check: CheckName) -> Result<Outcome> {
        match check {
            CheckName::Connect => unreachable!("connect runs first, on its own"),
            CheckName::Tls => self.tls().await,
            CheckName::Qos0 => self.round_trip(Qos::AtMostOnce).await,
            CheckName::Qos1 => self.round_trip(Qos::AtLeastOnce).await,
            CheckName::Qos2 => self.round_trip(Qos::ExactlyOnce).await,
            CheckName::Retained => self.retained().await,
            CheckName::Will => self.will().await,
            CheckName::Wildcards => self.wildcards().await,
            CheckName::LargePayload => self.large_payload().await,
        }
    }

    /// A new clean session with a client id of its own; `will` for the will check.
    async fn session(&mut self, role: &str, will: Option<Will>) -> Result<Session> {
        self.sessions += 1;
        let mut settings = self.settings.connect.clone();
        settings.client_id = format!("{}{role}-{}", self.base_id, self.sessions);
        settings.will = will;
        let options = SessionOptions {
            max_inflight: 20,
            ..SessionOptions::default()
        };
        let session = Session::connect(&settings, options).await;
        if role == "connect" {
            return session;
        }
        session.with_context(|| format!("opening the {role} connection"))
    }

    fn topic(&self, leaf: &str) -> String {
        format!("{}/{leaf}", self.settings.topic_prefix)
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.settings.timeout
    }

    fn timeout_text(&self) -> String {
        humantime::format_duration(self.settings.timeout).to_string()
    }

    async fn connect(&mut self) -> Result<Outcome> {
        let started = Instant::now();
        // The CONNACK within -W itself: the margin of each check is for closing, and a
        // connection that never opened has nothing to close.
        let session = tokio::time::timeout(self.settings.timeout, self.session("connect", None))
            .await
            .map_err(|_| {
                failure(
                    ErrorKind::Connect,
                    format!("no CONNACK within -W {}", self.timeout_text()),
                )
            })??;
        let connack_ms = ms_since(started);
        self.info = session.info.clone();
        // Each check proves delivery by its own round trip; the QoS 0 accounting of
        // `disconnect` adds nothing here.
        close(session).await;
        let mut details = Map::new();
        details.insert("connack_ms".into(), json!(report::round(connack_ms)));
        details.insert("session_present".into(), json!(self.info.session_present));
        let announced = announced_json(&self.info.announced);
        let mut reason = format!("CONNACK in {connack_ms:.1} ms");
        if !announced.is_empty() {
            let words: Vec<String> = announced
                .iter()
                .map(|(key, value)| format!("{} {value}", key.replace('_', " ")))
                .collect();
            reason.push_str(&format!("; broker announces {}", words.join(", ")));
            details.insert("announced".into(), Value::Object(announced));
        }
        Ok(Outcome::pass(reason, details))
    }

    async fn tls(&mut self) -> Result<Outcome> {
        if self.settings.connect.tls.is_none() {
            return Ok(Outcome::skip(
                "not a TLS connection (mqtts://, wss://, --tls or port 8883 turn it on)",
            ));
        }
        let facts = tls_facts::inspect(&self.settings.connect, self.settings.timeout).await?;
        let mut details = Map::new();
        details.insert("version".into(), json!(facts.version));
        details.insert("cipher_suite".into(), json!(facts.cipher_suite));
        details.insert("alpn".into(), json!(facts.alpn));
        details.insert("subject".into(), json!(facts.subject));
        details.insert("issuer".into(), json!(facts.issuer));
        details.insert("not_after".into(), json!(facts.not_after));
        details.insert("days_left".into(), json!(facts.days_left));
        let summary = format!(
            "{}, {}; certificate {} issued by {}, expires {} ({} days)",
            facts.version,
            facts.cipher_suite,
            facts.subject,
            facts.issuer,
            facts.not_after,
            facts.days_left
        );
        if let Some(warn) = self.settings.cert_expiry_warn
            && facts.days_left < i64::from(warn)
        {
            return Ok(Outcome {
                details,
                ..Outcome::fail(format!(
                    "the server's certificate expires in {} days, fewer than --cert-expiry-warn {warn} ({summary})",
                    facts.days_left
                ))
            });
        }
        Ok(Outcome::pass(summary, details))
    }

    /// The broker's maximum QoS (MQTT 5 CONNACK) must allow `qos`.
    fn allows(&self, qos: Qos) -> Result<()> {
        match self.info.announced.maximum_qos {
            Some(maximum) if (qos as u8) > maximum => bail!(
                "the broker's maximum QoS is {maximum} (from its CONNACK): QoS {} is not supported",
                qos as u8
            ),
            _ => Ok(()),
        }
    }

    async fn round_trip(&mut self, qos: Qos) -> Result<Outcome> {
        self.allows(qos)?;
        let topic = self.topic(&format!("qos{}", qos as u8));
        let count = usize::try_from(self.settings.count).unwrap_or(usize::MAX);
        let deadline = self.deadline();
        let mut sub = self.session("sub", None).await?;
        let granted = subscribe(&mut sub, &topic, qos, deadline).await?.0;
        if granted < qos {
            bail!(
                "the broker granted QoS {} for a QoS {} subscription",
                granted as u8,
                qos as u8
            );
        }
        let mut publisher = self.session("pub", None).await?;
        let expected = numbered_payloads(count);
        let sent_at = Arc::new(Mutex::new(Vec::with_capacity(count)));
        let producer = tokio::spawn(publish_all(
            publisher.publisher(),
            Message::new(topic.clone(), Bytes::new(), qos, false),
            expected.clone(),
            sent_at.clone(),
        ));
        let (mut received, mut completed) = (0usize, 0usize);
        let mut latencies = Vec::with_capacity(count);
        let outcome = async {
            while received < count || completed < count {
                tokio::select! {
                    event = sub.next_event() => match event {
                        Some(SessionEvent::Message(message)) => {
                            let got = &message.message;
                            if got.topic != topic || got.payload != expected[received] {
                                bail!(
                                    "message {} arrived out of order or damaged: {:?} on '{}'",
                                    received + 1,
                                    String::from_utf8_lossy(&got.payload),
                                    got.topic
                                );
                            }
                            if let Some(sent) = sent_at.lock().ok().and_then(|times| times.get(received).copied()) {
                                latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                            }
                            received += 1;
                        }
                        Some(SessionEvent::Lost(err)) => return Err(err.context("the subscriber's connection")),
                        Some(_) => {}
                        None => bail!("the subscriber's connection closed"),
                    },
                    event = publisher.next_event() => match event {
                        Some(SessionEvent::Published(Ok(()))) => completed += 1,
                        Some(SessionEvent::Published(Err(reason))) => {
                            bail!("the broker refused message {}: {reason}", completed + 1)
                        }
                        Some(SessionEvent::Lost(err)) => return Err(err.context("the publisher's connection")),
                        Some(_) => {}
                        None => bail!("the publisher's connection closed"),
                    },
                    () = tokio::time::sleep_until(deadline) => bail!(
                        "received {received} of {count} message(s) ({completed} {}) within {}",
                        if qos == Qos::AtMostOnce { "sent" } else { "acknowledged" },
                        self.timeout_text()
                    ),
                }
            }
            Ok(())
        }
        .await;
        producer.abort();
        outcome?;
        close(publisher).await;
        close(sub).await;

        Ok(in_order(count, &mut latencies))
    }

    async fn retained(&mut self) -> Result<Outcome> {
        if self.info.announced.retain_available == Some(false) {
            bail!("the broker announces that it does not keep retained messages (CONNACK)");
        }
        let topic = self.topic("retained");
        let payload = Bytes::from(format!("retained {}", fastrand::u64(..)));
        let mut publisher = self.session("pub", None).await?;
        let outcome = self.retained_steps(&mut publisher, &topic, &payload).await;
        // Clear it whatever happened, so no retained message is left behind.
        let cleared = publish_and_wait(
            &mut publisher,
            Message::new(topic.clone(), Bytes::new(), Qos::AtLeastOnce, true),
            self.deadline(),
        )
        .await;
        let outcome = outcome?;
        cleared.context("clearing the retained message")?;
        // A new subscriber must find nothing now.
        let deadline = Instant::now() + Duration::from_millis(500).min(self.settings.timeout);
        let mut late = self.session("sub", None).await?;
        let (_, early) = subscribe(&mut late, &topic, Qos::AtLeastOnce, self.deadline()).await?;
        let leftover = match early.into_iter().next() {
            Some(message) => Some(message),
            None => next_message(&mut late, deadline).await?,
        };
        if let Some(message) = leftover {
            bail!(
                "the retained message was still there after clearing it ({} bytes)",
                message.message.payload.len()
            );
        }
        close(late).await;
        close(publisher).await;
        Ok(outcome)
    }

    async fn retained_steps(
        &mut self,
        publisher: &mut Session,
        topic: &str,
        payload: &Bytes,
    ) -> Result<Outcome> {
        let deadline = self.deadline();
        publish_and_wait(
            publisher,
            Message::new(topic, payload.clone(), Qos::AtLeastOnce, true),
            deadline,
        )
        .await
        .context("publishing a retained message (does the broker accept them?)")?;
        let started = Instant::now();
        let mut sub = self.session("sub", None).await?;
        let (_, early) = subscribe(&mut sub, topic, Qos::AtLeastOnce, deadline).await?;
        let first = match early.into_iter().next() {
            Some(message) => Some(message),
            None => next_message(&mut sub, deadline).await?,
        };
        let Some(message) = first else {
            bail!(
                "a new subscriber did not get the retained message within {}",
                self.timeout_text()
            );
        };
        if !message.message.retain || message.message.payload != *payload {
            bail!(
                "a new subscriber got {:?} (retain flag {}) instead of the retained message",
                String::from_utf8_lossy(&message.message.payload),
                message.message.retain
            );
        }
        let ms = ms_since(started);
        close(sub).await;
        Ok(Outcome::delivered(
            ms,
            format!("a new subscriber got it in {ms:.1} ms (retain flag set); then cleared"),
            Map::new(),
        ))
    }

    async fn will(&mut self) -> Result<Outcome> {
        let topic = self.topic("will");
        let payload = Bytes::from(format!("will {}", fastrand::u64(..)));
        let deadline = self.deadline();
        let mut watcher = self.session("watch", None).await?;
        subscribe(&mut watcher, &topic, Qos::AtLeastOnce, deadline).await?;
        let will = Will {
            message: Message::new(topic.clone(), payload.clone(), Qos::AtLeastOnce, false),
            delay: None,
        };
        let doomed = self.session("doomed", Some(will)).await?;
        let dropped = Instant::now();
        doomed.abort();
        let Some(message) = next_message(&mut watcher, deadline).await? else {
            bail!(
                "the will of a client that dropped its connection did not arrive within {}",
                self.timeout_text()
            );
        };
        if message.message.payload != payload {
            bail!(
                "expected the will, got {:?}",
                String::from_utf8_lossy(&message.message.payload)
            );
        }
        let ms = ms_since(dropped);
        close(watcher).await;
        Ok(Outcome::delivered(
            ms,
            format!("delivered {ms:.1} ms after the connection dropped"),
            Map::new(),
        ))
    }

    async fn wildcards(&mut self) -> Result<Outcome> {
        if self.info.announced.wildcard_subscription_available == Some(false) {
            bail!("the broker announces that it does not support wildcard subscriptions (CONNACK)");
        }
        let deadline = self.deadline();
        let plus = self.topic("wild/+/x");
        let hash = self.topic("wild/#");
        let mut plus_sub = self.session("plus", None).await?;
        subscribe(&mut plus_sub, &plus, Qos::AtLeastOnce, deadline).await?;
        let mut hash_sub = self.session("hash", None).await?;
        subscribe(&mut hash_sub, &hash, Qos::AtLeastOnce, deadline).await?;
        let mut publisher = self.session("pub", None).await?;
        // The last one matches both filters: once both have it, everything before is in.
        let topics = ["wild/a/x", "wild/b/y/z", "wild/c/x/deeper", "wild/end/x"];
        for leaf in topics {
            publish_and_wait(
                &mut publisher,
                Message::new(self.topic(leaf), Bytes::from(leaf), Qos::AtLeastOnce, false),
                deadline,
            )
            .await?;
        }
        let expect_plus = [self.topic("wild/a/x"), self.topic("wild/end/x")];
        let expect_hash: Vec<String> = topics.iter().map(|leaf| self.topic(leaf)).collect();
        let got_plus = collect_topics(&mut plus_sub, &self.topic("wild/end/x"), deadline).await?;
        let got_hash = collect_topics(&mut hash_sub, &self.topic("wild/end/x"), deadline).await?;
        if got_plus != expect_plus {
            bail!("'{plus}' matched {got_plus:?}, expected {expect_plus:?}");
        }
        if got_hash != expect_hash {
            bail!("'{hash}' matched {got_hash:?}, expected {expect_hash:?}");
        }
        close(publisher).await;
        close(plus_sub).await;
        close(hash_sub).await;
        let mut details = Map::new();
        details.insert("plus_matched".into(), json!(got_plus.len()));
        details.insert("hash_matched".into(), json!(got_hash.len()));
        Ok(Outcome::pass(
            format!(
                "'+' matched {} of 4 topics, '#' all 4, as they should",
                got_plus.len()
            ),
            details,
        ))
    }

    async fn large_payload(&mut self) -> Result<Outcome> {
        let size = self.settings.payload_size;
        let topic = self.topic("large");
        // Fixed header (up to 5) + topic (2 + length) + packet id (2) + properties (1).
        let packet = size + topic.len() + 10;
        if let Some(maximum) = self.info.announced.maximum_packet_size
            && usize::try_from(maximum).is_ok_and(|maximum| packet > maximum)
        {
            bail!(
                "a {size}-byte payload makes a {packet}-byte packet, over the broker's maximum packet size of {maximum} bytes (CONNACK)"
            );
        }
        let deadline = self.deadline();
        let mut sub = self.session("sub", None).await?;
        subscribe(&mut sub, &topic, Qos::AtLeastOnce, deadline).await?;
        let mut publisher = self.session("pub", None).await?;
        let payload: Bytes = std::iter::repeat_with(|| fastrand::u8(..))
            .take(size)
            .collect();
        let started = Instant::now();
        publisher.publish_in_background(Message::new(
            topic.clone(),
            payload.clone(),
            Qos::AtLeastOnce,
            false,
        ));
        let received = tokio::select! {
            got = next_message(&mut sub, deadline) => got?,
            lost = failed(&mut publisher) => {
                let mut context = format!("publishing {size} bytes");
                if self.settings.connect.protocol == ProtocolVersion::V311 {
                    context.push_str(" (MQTT 3.1.1 cannot say why: is it over the broker's maximum packet size?)");
                }
                return Err(lost.context(context));
            }
        };
        let Some(message) = received else {
            bail!(
                "a {size}-byte message did not arrive within {}",
                self.timeout_text()
            );
        };
        if message.message.payload != payload {
            bail!(
                "the {size}-byte message arrived damaged ({} bytes)",
                message.message.payload.len()
            );
        }
        let ms = ms_since(started);
        close(publisher).await;
        close(sub).await;
        let mut details = Map::new();
        details.insert("bytes".into(), json!(size));
        Ok(Outcome::delivered(
            ms,
            format!("{size} bytes arrived intact in {ms:.1} ms"),
            details,
        ))
    }
}

/// Every one of `count` messages came, in order and intact: the pass, with the latencies.
fn in_order(count: usize, latencies: &mut [f64]) -> Outcome {
    let stats = Latency::of(latencies);
    let mut details = Map::new();
    details.insert("sent".into(), json!(count));
    details.insert("received".into(), json!(count));
    details.insert("in_order".into(), json!(true));
    details.insert("latency_ms".into(), stats.json());
    Outcome::pass(
        format!(
            "{count}/{count} received in order and intact; latency {}",
            stats.text()
        ),
        details,
    )
}

/// `count` payloads, numbered and marked as this run's, of different lengths.
fn numbered_payloads(count: usize) -> Vec<Bytes> {
    let marker: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(8)
        .collect();
    (0..count)
        .map(|n| Bytes::from(format!("{n:06} {marker} {}", "x".repeat(n % 17))))
        .collect()
}

/// Publishes each payload as `template`, noting when each went out in `sent_at`.
async fn publish_all(
    handle: crate::client::Publisher,
    template: Message,
    payloads: Vec<Bytes>,
    sent_at: Arc<Mutex<Vec<Instant>>>,
) {
    for payload in payloads {
        if let Ok(mut times) = sent_at.lock() {
            times.push(Instant::now());
        }
        let message = Message {
            payload,
            ..template.clone()
        };
        if handle.publish(message).await.is_err() {
            return;
        }
    }
}

/// Subscribes and waits for the SUBACK; messages that came before it are returned.
async fn subscribe(
    session: &mut Session,
    filter: &str,
    qos: Qos,
    deadline: Instant,
) -> Result<(Qos, Vec<Received>)> {
    session.subscribe(&[filter.to_string()], qos).await?;
    let mut early = Vec::new();
    loop {
        let event = tokio::time::timeout_at(deadline, session.next_event())
            .await
            .map_err(|_| anyhow!("no SUBACK for '{filter}'"))?;
        match event {
            Some(SessionEvent::Subscribed(granted)) => {
                return match granted.into_iter().next() {
                    Some(Ok(granted)) => Ok((granted, early)),
                    Some(Err(reason)) => Err(anyhow!(
                        "the broker refused the subscription to '{filter}': {reason}"
                    )),
                    None => Err(anyhow!("an empty SUBACK for '{filter}'")),
                };
            }
            Some(SessionEvent::Message(message)) => early.push(*message),
            Some(SessionEvent::Lost(err)) => return Err(err),
            Some(_) => {}
            None => bail!("the connection closed before the SUBACK"),
        }
    }
}

/// Publishes one message and waits for its completion (PUBACK at QoS 1).
async fn publish_and_wait(
    session: &mut Session,
    message: Message,
    deadline: Instant,
) -> Result<()> {
    let topic = message.topic.clone();
    session.publish_in_background(message);
    loop {
        let event = tokio::time::timeout_at(deadline, session.next_event())
            .await
            .map_err(|_| anyhow!("no acknowledgement for the message to '{topic}'"))?;
        match event {
            Some(SessionEvent::Published(Ok(()))) => return Ok(()),
            Some(SessionEvent::Published(Err(reason))) => {
                bail!("the broker refused the message to '{topic}': {reason}")
            }
            Some(SessionEvent::Lost(err)) => {
                return Err(err.context(format!("publishing to '{topic}'")));
            }
            Some(_) => {}
            None => bail!("the connection closed while publishing to '{topic}'"),
        }
    }
}

/// The next message, or `None` at the deadline.
async fn next_message(session: &mut Session, deadline: Instant) -> Result<Option<Received>> {
    loop {
        let Ok(event) = tokio::time::timeout_at(deadline, session.next_event()).await else {
            return Ok(None);
        };
        match event {
            Some(SessionEvent::Message(message)) => return Ok(Some(*message)),
            Some(SessionEvent::Lost(err)) => return Err(err),
            Some(_) => {}
            None => bail!("the connection closed"),
        }
    }
}

/// Resolves only when the session fails (a refused publish or a lost connection).
async fn failed(session: &mut Session) -> anyhow::Error {
    loop {
        match session.next_event().await {
            Some(SessionEvent::Published(Err(reason))) => {
                return anyhow!("the broker refused it: {reason}");
            }
            Some(SessionEvent::Lost(err)) => return err,
            Some(_) => {}
            None => return anyhow!("the connection closed"),
        }
    }
}

/// Topics of the messages received up to and including one on `last`.
async fn collect_topics(
    session: &mut Session,
    last: &str,
    deadline: Instant,
) -> Result<Vec<String>> {
    let mut topics = Vec::new();
    while topics.last().is_none_or(|topic: &String| topic != last) {
        match next_message(session, deadline).await? {
            Some(message) => topics.push(message.message.topic),
            None if topics.is_empty() => {
                bail!("received nothing in time, expected messages up to one on '{last}'")
            }
            None => bail!("received only {topics:?} in time, expected a message on '{last}' last"),
        }
    }
    Ok(topics)
}

/// p50, p95 and maximum of round-trip times.
struct Latency {
    p50: f64,
    p95: f64,
    max: f64,
}

impl Latency {
    fn of(samples: &mut [f64]) -> Latency {
        samples.sort_by(f64::total_cmp);
        let at = |percent: usize| -> f64 {
            if samples.is_empty() {
                return 0.0;
            }
            let rank = (samples.len() * percent).div_ceil(100).max(1);
            samples[rank - 1]
        };
        Latency {
            p50: at(50),
            p95: at(95),
            max: samples.last().copied().unwrap_or(0.0),
        }
    }

    fn text(&self) -> String {
        format!(
            "p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
            self.p50, self.p95, self.max
        )
    }

    fn json(&self) -> Value {
        json!({
            "p50": report::round(self.p50),
            "p95": report::round(self.p95),
            "max": report::round(self.max),
        })
    }
}

/// The CONNACK's announcements that were present, for the report.
fn announced_json(announced: &Announced) -> Map<String, Value> {
    announced
        .fields()
        .into_iter()
        .map(|field| {
            let value = match field.value {
                AnnouncedValue::Number(number) => json!(number),
                AnnouncedValue::Flag(flag) => json!(flag),
                AnnouncedValue::Text(text) => json!(text),
            };
            (field.key.to_string(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_report_announces_what_debug_shows() {
        let announced = Announced {
            receive_maximum: Some(20),
            session_expiry_interval: Some(60),
            assigned_client_identifier: Some("auto-1".into()),
            ..Announced::default()
        };
        let json = announced_json(&announced);
        assert_eq!(json["receive_maximum"], json!(20));
        assert_eq!(json["session_expiry_interval"], json!(60));
        assert_eq!(json["assigned_client_identifier"], json!("auto-1"));
        assert_eq!(json.len(), announced.fields().len());
    }
}
