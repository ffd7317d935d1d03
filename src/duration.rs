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

#[cfg(test)]
mod tests {
    use super::*;

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
