//! A reader that stops reading must not stop the MQTT session: keepalives go on, the broker
//! holds QoS 1 messages (its in-flight window), and everything arrives once the reader reads.

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

use common::*;

#[test]
fn a_reader_that_stops_for_10_s_loses_nothing_and_the_connection_stays_up() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let payload = dir.path().join("payload");
    // 600 x 10 KB: far more than the pipe (64 KiB) and the output queue (1 MiB) hold.
    std::fs::write(&payload, vec![b'x'; 10_000]).expect("write payload");
    let count = 600;

    let args = command(
        "sub",
        &broker,
        &[
            "-t",
            "big",
            "-q",
            "1",
            "-k",
            "2",
            "-C",
            &count.to_string(),
            "-i",
            "slow-reader",
        ],
    );
    let mut sub = cli()
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sub");
    broker.wait_for_subscription("slow-reader");
    let published = run_on(
        &broker,
        &[
            "pub",
            "-t",
            "big",
            "-q",
            "1",
            "-f",
            &payload.display().to_string(),
            "--repeat",
            &count.to_string(),
        ],
    );
    assert_code(&published, 0);

    // The reader pauses (a paused `less`): five keepalive periods, 3 1/3 times the broker's
    // 1.5 x keepalive limit.
    std::thread::sleep(Duration::from_secs(10));
    let mut stdout = sub.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        stdout.read_to_end(&mut all).expect("read");
        all
    });
    let out = wait_output(sub, STEP);
    let printed = reader.join().expect("reader");
    assert_code(&out, 0);
    let lines: Vec<&[u8]> = printed
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), count, "messages printed");
    assert!(lines.iter().all(|line| line.len() == 10_000));
    let err = stderr(&out);
    assert!(
        !err.contains("reconnecting") && !err.contains("lost"),
        "the connection dropped:\n{err}"
    );
    let log = broker.log();
    assert!(
        !log.contains("slow-reader has exceeded timeout"),
        "the broker timed the subscriber out:\n{log}"
    );
}
