//! `mqtt-cli rr` against a device simulated in the test (a responder on its own MQTT 5
//! connection), and `sub --match`.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::*;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, PublishProperties};
use rumqttc::v5::{Client, Event, MqttOptions};

/// How long a "slow:" answer waits.
const SLOW: Duration = Duration::from_millis(300);

/// A device: answers every request on `requests` with `answers`, in turn, on `answer_topic`,
/// echoing the request's correlation data (MQTT 5) when it has some (`other:` answers carry
/// another correlation instead). Returns once it has subscribed.
fn responder(
    broker: &Broker,
    requests: &'static str,
    answer_topic: &'static str,
    answers: &'static [&'static str],
) -> thread::JoinHandle<Vec<Option<bytes::Bytes>>> {
    let id = format!("responder-{}", broker.port);
    let options = MqttOptions::new(id.clone(), "127.0.0.1", broker.port);
    let (client, mut connection) = Client::new(options, 16);
    client
        .subscribe(requests, QoS::AtLeastOnce)
        .expect("subscribe");
    let handle = thread::spawn(move || {
        let mut correlations = Vec::new();
        for event in connection.iter() {
            let Ok(Event::Incoming(Packet::Publish(request))) = event else {
                if event.is_err() {
                    break;
                }
                continue;
            };
            let correlation = request
                .properties
                .as_ref()
                .and_then(|p| p.correlation_data.clone());
            correlations.push(correlation.clone());
            let properties = PublishProperties {
                correlation_data: correlation,
                ..PublishProperties::default()
            };
            for answer in answers {
                // "slow:" answers are sent 300 ms after the request arrived.
                let answer: &str = match answer.strip_prefix("slow:") {
                    Some(answer) => {
                        thread::sleep(SLOW);
                        answer
                    }
                    None => answer,
                };
                // "other:" answers carry another request's correlation data.
                let (payload, properties) = match answer.strip_prefix("other:") {
                    Some(payload) => (
                        payload,
                        PublishProperties {
                            correlation_data: Some(bytes::Bytes::from_static(b"other")),
                            ..PublishProperties::default()
                        },
                    ),
                    None => (answer, properties.clone()),
                };
                client
                    .publish_with_properties(
                        answer_topic,
                        QoS::AtLeastOnce,
                        false,
                        payload.as_bytes().to_vec(),
                        properties,
                    )
                    .expect("answer");
            }
            if correlations.len() == 1 {
                let _ = client.disconnect();
            }
        }
        correlations
    });
    broker.wait_for_subscription(&id);
    handle
}

#[test]
fn rr_prints_the_answer_on_mqtt_311_and_5() {
    for version in ["311", "5"] {
        let broker = Broker::start();
        let device = responder(&broker, "dev/1/cmd", "dev/1/state", &["on"]);
        let out = run_on(
            &broker,
            &[
                "rr",
                "-V",
                version,
                "-t",
                "dev/1/cmd",
                "-e",
                "dev/1/state",
                "-m",
                "on",
                "-W",
                "5s",
                "-q",
                "1",
            ],
        );
        assert_code(&out, 0);
        assert_eq!(stdout(&out), "on\n");
        let correlations = device.join().expect("responder");
        // MQTT 5 requests carry correlation data (random by default); 3.1.1 ones cannot.
        assert_eq!(correlations.len(), 1);
        assert_eq!(
            correlations[0].is_some(),
            version == "5",
            "{correlations:?}"
        );
    }
}

/// `--latency` (mosquitto 2.1): a line after the answer with the time from the request to the
/// answer, which a device answering 300 ms late makes at least 300 ms.
#[test]
fn rr_latency_prints_the_round_trip_after_the_answer() {
    let broker = Broker::start();
    let device = responder(&broker, "dev/4/cmd", "dev/4/state", &["slow:on"]);
    let out = run_on(
        &broker,
        &[
            "rr",
            "-t",
            "dev/4/cmd",
            "-e",
            "dev/4/state",
            "-m",
            "on",
            "-W",
            "5s",
            "--latency",
        ],
    );
    assert_code(&out, 0);
    let text = stdout(&out);
    let (answer, latency) = text.split_once('\n').expect("two lines");
    assert_eq!(answer, "on", "{text}");
    let ms: f64 = latency
        .strip_prefix("latency: ")
        .and_then(|rest| rest.strip_suffix(" ms\n"))
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("not a latency line: {latency:?}"));
    assert!(ms >= SLOW.as_secs_f64() * 1000.0, "{text}");
    device.join().expect("responder");
}

#[test]
fn rr_skips_answers_that_do_not_match_and_stale_retained_values() {
    let broker = Broker::start();
    // A stale retained state must not pass for the answer.
    assert_code(
        &run_on(&broker, &["pub", "-t", "dev/2/state", "-m", "off", "-r"]),
        0,
    );
    let device = responder(&broker, "dev/2/cmd", "dev/2/state", &["booting", "on"]);
    let out = run_on(
        &broker,
        &[
            "rr",
            "-t",
            "dev/2/cmd",
            "-e",
            "dev/2/state",
            "-m",
            "on",
            "--match",
            "^on$",
            "-W",
            "5s",
            "-v",
        ],
    );
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "dev/2/state on\n");
    device.join().expect("responder");
    // Clean up the retained message.
    assert_code(
        &run_on(&broker, &["pub", "-t", "dev/2/state", "-n", "-r"]),
        0,
    );
}

#[test]
fn rr_skips_answers_to_another_request_on_mqtt5() {
    let broker = Broker::start();
    // Someone else's answer, with other correlation data, arrives first.
    let device = responder(
        &broker,
        "dev/3/cmd",
        "dev/3/state",
        &["other:not yours", "on"],
    );
    let out = run_on(
        &broker,
        &[
            "rr",
            "-V",
            "5",
            "-t",
            "dev/3/cmd",
            "-e",
            "dev/3/state",
            "-m",
            "on",
            "-W",
            "5s",
            "--correlation-data",
            "mine",
            "-F",
            "%p %D",
        ],
    );
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "on mine\n");
    let correlations = device.join().expect("responder");
    assert_eq!(correlations[0].as_deref(), Some(&b"mine"[..]));
}

#[test]
fn rr_times_out_with_7_when_nobody_answers() {
    let broker = Broker::start();
    let started = Instant::now();
    let out = run_on(
        &broker,
        &[
            "rr",
            "-t",
            "dev/4/cmd",
            "-e",
            "dev/4/state",
            "-m",
            "on",
            "-W",
            "500ms",
        ],
    );
    assert_code(&out, 7);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        stderr(&out).contains("no answer on 'dev/4/state' within 500ms"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "");
}

#[test]
fn rr_bad_input_is_refused_before_connecting() {
    for (args, needle) in [
        (&["rr", "-t", "a", "-e", "a", "-m", "x"][..], "same topic"),
        (&["rr", "-t", "a", "-e", "b/#", "-m", "x"], "response-topic"),
        (&["rr", "-t", "a", "-e", "b"], "no request"),
        (
            &["rr", "-t", "a", "-e", "b", "-m", "x", "--match", "("],
            "--match",
        ),
        (
            &[
                "rr",
                "-t",
                "a",
                "-e",
                "b",
                "-m",
                "x",
                "--correlation-data",
                "c",
            ],
            "add -V 5",
        ),
    ] {
        let out = run(args, b"");
        assert_code(&out, 2);
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn sub_match_counts_only_matching_messages() {
    let broker = Broker::start();
    let sub = Background::sub(
        &broker,
        &[
            "-t",
            "m/#",
            "--match",
            "^temp=[0-9]+$",
            "-C",
            "2",
            "-W",
            "5s",
            "-v",
        ],
    );
    for payload in ["hello", "temp=21", "temp=x", "temp=22", "temp=23"] {
        assert_code(&run_on(&broker, &["pub", "-t", "m/a", "-m", payload]), 0);
    }
    let got = sub.finish();
    assert_code(&got, 0);
    assert_eq!(stdout(&got), "m/a temp=21\nm/a temp=22\n");
}

#[test]
fn rr_goes_through_a_proxy() {
    let broker = Broker::start();
    let proxy = common::proxies::Proxy::tinyproxy(None);
    let device = responder(&broker, "dev/2/cmd", "dev/2/state", &["off"]);
    let port = broker.port.to_string();
    let out = run(
        &[
            "rr",
            "-h",
            "localhost",
            "-p",
            &port,
            "-t",
            "dev/2/cmd",
            "-e",
            "dev/2/state",
            "-m",
            "off",
            "-W",
            "5s",
            "--proxy",
            &proxy.url("http", None),
        ],
        b"",
    );
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "off\n");
    device.join().expect("responder");
    proxy.wait_for_log(&format!("CONNECT localhost:{port}"), 1);
}
