//! Environment variables, behind a seam so that tests need not touch the process's; the
//! profile chosen for this run travels with them.

use super::secrets::PasswordSource;

/// Reads environment variables; a seam so tests need not touch the process environment.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;

    /// The address and credentials of the profile in use, a layer below the environment.
    fn profile(&self) -> Option<&ProfileLayer> {
        None
    }
}

/// The real process environment.
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|value| !value.is_empty())
    }
}

/// The real process environment, and the profile chosen on the command line.
pub struct ProcessEnvWithProfile(pub Option<ProfileLayer>);

impl Environment for ProcessEnvWithProfile {
    fn var(&self, name: &str) -> Option<String> {
        ProcessEnv.var(name)
    }

    fn profile(&self) -> Option<&ProfileLayer> {
        self.0.as_ref()
    }
}

/// A profile's address and credentials: a layer below the URL and the environment.
#[derive(Debug, Clone, Default)]
pub struct ProfileLayer {
    pub name: String,
    pub url: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub username: Option<String>,
    pub password: Option<PasswordSource>,
    /// Set when the command line (or `MQTT_HOST`/`MQTT_URL`) names a host other than the
    /// profile's own: its credentials are not sent there (as curl keeps them from a redirect's
    /// other host). The host named.
    pub elsewhere: Option<String>,
}

impl ProfileLayer {
    /// The profile's own host: `host`, else its URL's.
    pub fn own_host(&self) -> Option<String> {
        self.host.clone().or_else(|| {
            let url = super::url::parse_url(self.url.as_deref()?).ok()?;
            url.host
        })
    }
}

/// The credentials a profile keeps for its own host (flags they become).
pub const CREDENTIAL_KEYS: &[&str] = &["cert", "key", "keyform"];
