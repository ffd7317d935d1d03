//! The reconnect policy: after a dropped connection, wait 250 ms, then twice as long each time
//! up to `--reconnect-delay` (with +-25% jitter, so that many clients do not return at once),
//! until `--reconnect-timeout`; give up at once on errors reconnecting cannot mend, and after
//! three connections in a row that the broker dropped right after making them.

use std::time::Duration;

use tracing::debug;

use crate::error::{ErrorKind, failure};
use crate::types::Reconnect;

/// The first wait before reconnecting.
const FIRST_RECONNECT_DELAY: Duration = Duration::from_millis(250);

/// A connection that drops this soon after it was made counts as refused.
const QUICK_DROP: Duration = Duration::from_secs(1);
/// After this many quick drops in a row, reconnecting is pointless.
const QUICK_DROPS_TO_GIVE_UP: u32 = 3;

/// Tracks one outage of the connection, for the drive loops.
pub(super) struct Outage {
    since: Option<std::time::Instant>,
    attempts: u32,
    /// When the current connection was made; `None` while disconnected.
    connected_at: Option<std::time::Instant>,
    /// Connections in a row that dropped within [`QUICK_DROP`]: a broker that refuses
    /// something we send (MQTT 3.1.1 has no way to say what) closes each one at once.
    quick_drops: u32,
}

impl Default for Outage {
    fn default() -> Self {
        Outage {
            since: None,
            attempts: 0,
            connected_at: Some(std::time::Instant::now()),
            quick_drops: 0,
        }
    }
}

impl Outage {
    /// After a failed poll: how long to wait before polling (reconnecting) again, or the error
    /// that ends the session. The first failure of an outage prints one notice.
    pub(super) fn next_wait(
        &mut self,
        policy: Option<Reconnect>,
        error: anyhow::Error,
        recoverable: bool,
    ) -> Result<Duration, anyhow::Error> {
        let Some(policy) = policy.filter(|_| recoverable) else {
            return Err(error);
        };
        if let Some(connected_at) = self.connected_at.take() {
            if connected_at.elapsed() < QUICK_DROP {
                self.quick_drops += 1;
            } else {
                self.quick_drops = 0;
            }
            if self.quick_drops >= QUICK_DROPS_TO_GIVE_UP {
                return Err(failure(
                    ErrorKind::Lost,
                    format!(
                        "{error:#}; the broker closed the connection {} times in a row right after \
                         it was made, so it refuses something this client sends (a message over \
                         its maximum packet size? a topic its ACL denies? the client id in use \
                         by another client?)",
                        self.quick_drops
                    ),
                ));
            }
        }
        let since = *self.since.get_or_insert_with(std::time::Instant::now);
        if self.attempts == 0 {
            tracing::info!("{error:#}; reconnecting");
        } else {
            debug!("reconnecting failed: {error:#}");
        }
        if let Some(limit) = policy.give_up_after
            && since.elapsed() >= limit
        {
            return Err(failure(
                ErrorKind::Lost,
                format!(
                    "could not reconnect within {} (--reconnect-timeout): {error:#}",
                    humantime::format_duration(limit)
                ),
            ));
        }
        let doubled = FIRST_RECONNECT_DELAY.saturating_mul(1 << self.attempts.min(16));
        let wait = doubled.min(policy.max_delay);
        self.attempts += 1;
        // +-25% jitter.
        Ok(wait.mul_f64(0.75 + fastrand::f64() * 0.5))
    }

    /// The connection is back: returns how long it was away, if it was.
    pub(super) fn ended(&mut self) -> Option<Duration> {
        self.attempts = 0;
        self.connected_at = Some(std::time::Instant::now());
        self.since.take().map(|since| since.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn policy(max_delay_ms: u64, give_up_after: Option<Duration>) -> Option<Reconnect> {
        Some(Reconnect {
            max_delay: Duration::from_millis(max_delay_ms),
            give_up_after,
        })
    }

    /// An outage whose connection had been up long enough not to count as a quick drop.
    fn settled() -> Outage {
        Outage {
            connected_at: Instant::now().checked_sub(Duration::from_secs(5)),
            ..Outage::default()
        }
    }

    fn lost() -> anyhow::Error {
        anyhow::anyhow!("connection lost")
    }

    #[test]
    fn waits_double_from_250ms_up_to_the_limit_with_jitter() {
        let mut outage = settled();
        let expected = [250u64, 500, 1000, 2000, 4000, 4000, 4000];
        for (attempt, nominal) in expected.iter().enumerate() {
            let wait = outage
                .next_wait(policy(4000, None), lost(), true)
                .expect("retries");
            let nominal = Duration::from_millis(*nominal);
            assert!(
                wait >= nominal.mul_f64(0.75) && wait <= nominal.mul_f64(1.25),
                "attempt {attempt}: {wait:?} not within 25% of {nominal:?}"
            );
        }
    }

    #[test]
    fn jitter_spreads_the_waits() {
        let waits: std::collections::BTreeSet<Duration> = (0..20)
            .map(|_| {
                settled()
                    .next_wait(policy(10_000, None), lost(), true)
                    .expect("retries")
            })
            .collect();
        assert!(
            waits.len() > 10,
            "20 first waits, only {} different",
            waits.len()
        );
    }

    #[test]
    fn a_reconnect_starts_the_doubling_again() {
        let mut outage = settled();
        for _ in 0..4 {
            outage
                .next_wait(policy(60_000, None), lost(), true)
                .expect("retries");
        }
        assert!(outage.ended().is_some(), "it was away");
        outage.connected_at = Instant::now().checked_sub(Duration::from_secs(5));
        let wait = outage
            .next_wait(policy(60_000, None), lost(), true)
            .expect("retries");
        assert!(wait <= Duration::from_millis(313), "{wait:?}");
    }

    #[test]
    fn ends_without_a_policy_on_unrecoverable_errors_and_after_the_timeout() {
        assert!(settled().next_wait(None, lost(), true).is_err());
        assert!(
            settled()
                .next_wait(policy(1000, None), lost(), false)
                .is_err()
        );
        let err = settled()
            .next_wait(policy(1000, Some(Duration::ZERO)), lost(), true)
            .expect_err("gives up");
        assert!(
            format!("{err:#}").contains("--reconnect-timeout"),
            "{err:#}"
        );
        assert_eq!(crate::error::exit_code_of(&err), 8);
    }

    #[test]
    fn three_quick_drops_in_a_row_end_it() {
        let mut outage = Outage::default();
        for _ in 0..2 {
            outage
                .next_wait(policy(1000, None), lost(), true)
                .expect("retries");
            outage.ended();
        }
        let err = outage
            .next_wait(policy(1000, None), lost(), true)
            .expect_err("gives up");
        assert!(format!("{err:#}").contains("3 times in a row"), "{err:#}");
        // A connection that lasted resets the count.
        let mut outage = Outage::default();
        outage
            .next_wait(policy(1000, None), lost(), true)
            .expect("retries");
        outage.connected_at = Instant::now().checked_sub(Duration::from_secs(5));
        outage
            .next_wait(policy(1000, None), lost(), true)
            .expect("retries");
        assert_eq!(outage.quick_drops, 0);
    }
}
