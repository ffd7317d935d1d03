//! Topic names and filters: never a panic; a valid name matches itself as a filter and is
//! matched by `#`; a name with a wildcard is never valid; matching never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqtt_cli::topic::{filter_matches, validate_topic_filter, validate_topic_name};

fuzz_target!(|input: (&str, &str)| {
    let (filter, topic) = input;
    let name_ok = validate_topic_name(topic).is_ok();
    let filter_ok = validate_topic_filter(filter).is_ok();
    if name_ok {
        assert!(!topic.contains(['+', '#', '\0']) && !topic.is_empty());
        assert!(validate_topic_filter(topic).is_ok(), "{topic:?}");
        assert!(filter_matches(topic, topic), "{topic:?}");
        if !topic.starts_with('$') {
            assert!(filter_matches("#", topic), "{topic:?}");
        }
    }
    if filter_ok && name_ok {
        let _ = filter_matches(filter, topic);
    }
});
