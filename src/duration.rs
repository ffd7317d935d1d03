//! Durations on the command line: `500ms`, `1s`, `2m`, `1h30m` (humantime), or a bare number of
//! seconds as mosquitto_sub's `-W 5` takes it.

use std::time::Duration;

/// Parses a duration flag value; a bare number means seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration: use e.g. 500ms, 1s, 2m".to_string());
    }
    if let Ok(seconds) = text.parse::<f64>() {
        if !(0.0..=1e9).contains(&seconds) {
            return Err(format!("invalid duration '{text}': out of range"));
        }
        return Ok(Duration::from_secs_f64(seconds));
    }
    humantime::parse_duration(text)
        .map_err(|err| format!("invalid duration '{text}': {err} (use e.g. 500ms, 1s, 2m)"))
}

/// An interval MQTT 5 carries in whole seconds (message expiry, will delay): a duration as
/// above, at least a second unless zero, at most 2^32 - 2 seconds.
pub fn parse_interval(text: &str) -> Result<u32, String> {
    let duration = parse_duration(text)?;
    if duration.subsec_nanos() != 0 {
        return Err(format!("'{text}' is not a whole number of seconds"));
    }
    u32::try_from(duration.as_secs())
        .ok()
        .filter(|seconds| *seconds < u32::MAX)
        .ok_or_else(|| {
            format!("'{text}' is too long: at most 4294967294 seconds (about 136 years)")
        })
}

/// A session expiry interval: as [`parse_interval`], or `never` (also `-1`, `inf`, as
/// mosquitto takes it) for a session that does not expire.
pub fn parse_session_expiry(text: &str) -> Result<u32, String> {
    match text.trim() {
        "never" | "-1" | "inf" | "infinity" | "\u{221e}" => Ok(u32::MAX),
        _ => parse_interval(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_in_whole_seconds() {
        assert_eq!(parse_interval("90"), Ok(90));
        assert_eq!(parse_interval("1h"), Ok(3600));
        assert_eq!(parse_interval("0"), Ok(0));
        assert!(parse_interval("1.5s").is_err());
        assert!(parse_interval("200years").is_err());
        assert_eq!(parse_session_expiry("never"), Ok(u32::MAX));
        assert_eq!(parse_session_expiry("-1"), Ok(u32::MAX));
        assert_eq!(parse_session_expiry("1d"), Ok(86400));
    }

    #[test]
    fn accepts_units_and_bare_seconds() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("0.25"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn rejects_nonsense() {
        for bad in ["", "abc", "-1", "1 parsec", "NaN", "inf", "1e300"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
