//! Environment variables (`MQTT_*`, the config file's place), behind a seam so that tests need
//! not touch the process's.

/// Reads environment variables; a seam so tests need not touch the process environment.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|value| !value.is_empty())
    }
}
