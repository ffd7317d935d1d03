//! Durations: never a panic; intervals are whole seconds below 2^32 - 1.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqtt_cli::duration::{parse_duration, parse_interval, parse_session_expiry};

fuzz_target!(|text: &str| {
    let _ = parse_duration(text);
    if let Ok(seconds) = parse_interval(text) {
        assert!(seconds < u32::MAX);
    }
    let _ = parse_session_expiry(text);
});
