//! `-L` URLs: never a panic; what parses has a transport, a host and a port above 0; an error
//! never shows the password.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mqtt_cli::settings::parse_url;

fuzz_target!(|text: &str| {
    match parse_url(text) {
        Ok(parts) => {
            assert!(parts.transport.is_some());
            assert!(parts.host.as_deref().is_some_and(|host| !host.is_empty()));
            assert!(parts.port.is_some_and(|port| port > 0));
        }
        Err(err) => {
            let message = format!("{err:#}");
            // The URL in the message has its password masked.
            if let Ok(url) = url::Url::parse(text)
                && url.password().is_some()
            {
                let quoted = message
                    .strip_prefix("invalid URL '")
                    .and_then(|rest| rest.rsplit_once("': "))
                    .map(|(quoted, _)| quoted)
                    .unwrap_or_else(|| panic!("{message}"));
                let shown = url::Url::parse(quoted).unwrap_or_else(|_| panic!("{message}"));
                assert_eq!(shown.password(), Some("***"), "{message}");
            }
        }
    }
});
