//! Topic names and topic filters, validated before any network I/O.
//!
//! Brokers answer a bad topic by closing the connection, which reads as a network fault; checking
//! here turns it into a clear message and exit 2 (MQTT 3.1.1 §4.7, MQTT 5 §4.7).

/// The largest UTF-8 string MQTT can carry (two-byte length prefix).
pub const MAX_TOPIC_LEN: usize = 65_535;

/// Checks a topic name to publish to: not empty, no wildcards, no NUL, at most 65535 bytes.
pub fn validate_topic_name(topic: &str) -> Result<(), String> {
    check_common(topic)?;
    if topic.contains(['+', '#']) {
        return Err(format!(
            "invalid topic '{topic}': wildcards '+' and '#' are only allowed in subscriptions"
        ));
    }
    Ok(())
}

/// Checks a topic filter to subscribe to: `+` fills a whole level, `#` is the whole last level.
pub fn validate_topic_filter(filter: &str) -> Result<(), String> {
    check_common(filter)?;
    let levels: Vec<&str> = filter.split('/').collect();
    let last = levels.len() - 1;
    for (index, level) in levels.iter().enumerate() {
        if level.contains('#') && (*level != "#" || index != last) {
            return Err(format!(
                "invalid topic filter '{filter}': '#' must be a whole level and the last one"
            ));
        }
        if level.contains('+') && *level != "+" {
            return Err(format!(
                "invalid topic filter '{filter}': '+' must be a whole level"
            ));
        }
    }
    Ok(())
}

/// Whether `topic` matches the (valid) `filter`, as a broker decides it: `+` is one level, `#`
/// the rest (including the parent: `a/#` matches `a`), and wildcards at the start never match
/// `$SYS`-style topics.
pub fn filter_matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut filter_levels = filter.split('/');
    let mut topic_levels = topic.split('/');
    loop {
        match (filter_levels.next(), topic_levels.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(wanted), Some(level)) if wanted == level => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

fn check_common(topic: &str) -> Result<(), String> {
    if topic.is_empty() {
        return Err("invalid topic: it is empty".to_string());
    }
    if topic.contains('\0') {
        return Err(format!(
            "invalid topic '{}': it contains a NUL character",
            topic.escape_debug()
        ));
    }
    if topic.len() > MAX_TOPIC_LEN {
        return Err(format!(
            "invalid topic: {} bytes long, the limit is {MAX_TOPIC_LEN}",
            topic.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "a/b", "/", "a//b", "$SYS/x", "ü/ñ"] {
            assert!(validate_topic_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a/+", "#", "a/#", "a\0b"] {
            assert!(validate_topic_name(bad).is_err(), "{bad:?}");
        }
        assert!(validate_topic_name(&"x".repeat(65_535)).is_ok());
        assert!(validate_topic_name(&"x".repeat(65_536)).is_err());
    }

    #[test]
    fn matching() {
        for (filter, topic) in [
            ("a/b", "a/b"),
            ("a/+", "a/b"),
            ("a/#", "a"),
            ("a/#", "a/b/c"),
            ("#", "a/b"),
            ("+/+", "/x"),
            ("+", ""),
            ("$SYS/#", "$SYS/broker/uptime"),
        ] {
            assert!(
                filter_matches(filter, topic),
                "{filter} should match {topic}"
            );
        }
        for (filter, topic) in [
            ("a/b", "a/c"),
            ("a/+", "a/b/c"),
            ("a/+", "a"),
            ("#", "$SYS/x"),
            ("+/x", "$SYS/x"),
            ("a/b/#", "a"),
        ] {
            assert!(
                !filter_matches(filter, topic),
                "{filter} should not match {topic}"
            );
        }
    }

    #[test]
    fn filters() {
        for ok in ["#", "+", "a/+/b", "a/#", "+/+", "/#", "a//+", "$SYS/#"] {
            assert!(validate_topic_filter(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a#", "a/#/b", "a/b+", "+a", "##", "a\0"] {
            assert!(validate_topic_filter(bad).is_err(), "{bad:?}");
        }
    }
}
