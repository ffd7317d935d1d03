//! `sub --stats`: a live line on stderr while messages arrive (on a terminal), and a table of
//! messages per topic at the end. Standard output is not touched.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Topics shown in the final table.
const TOP: usize = 20;

#[derive(Default)]
struct Topic {
    count: u64,
    last_size: usize,
}

pub struct Stats {
    started: Instant,
    messages: u64,
    bytes: u64,
    topics: HashMap<String, Topic>,
    live: Option<indicatif::ProgressBar>,
    shown: Instant,
}

impl Stats {
    /// Counting starts now; the live line only when stderr is a terminal.
    pub fn start() -> Stats {
        let live = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr_with_hz(10),
            )
            .with_finish(indicatif::ProgressFinish::AndClear);
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg}") {
                bar.set_style(style);
            }
            bar.set_message("0 messages, 0/s");
            bar.enable_steady_tick(Duration::from_millis(200));
            bar.tick();
            bar
        });
        Stats {
            started: Instant::now(),
            messages: 0,
            bytes: 0,
            topics: HashMap::new(),
            live,
            shown: Instant::now(),
        }
    }

    /// One message shown.
    pub fn record(&mut self, topic: &str, size: usize) {
        self.messages += 1;
        self.bytes += size as u64;
        match self.topics.get_mut(topic) {
            Some(entry) => {
                entry.count += 1;
                entry.last_size = size;
            }
            None => {
                self.topics.insert(
                    topic.to_string(),
                    Topic {
                        count: 1,
                        last_size: size,
                    },
                );
            }
        }
        if self.shown.elapsed() >= Duration::from_millis(100) {
            self.refresh();
        }
    }

    /// Redraws the live line with the counts and rates now: on a message (at most ten times a
    /// second), and every second (so that rates fall when messages stop, and the line never
    /// looks frozen).
    pub fn refresh(&mut self) {
        let Some(bar) = &self.live else {
            return;
        };
        self.shown = Instant::now();
        let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
        bar.set_message(format!(
            "{}, {:.0}/s, {}/s",
            counted(self.messages, "message"),
            self.messages as f64 / seconds,
            bytes(self.bytes as f64 / seconds),
        ));
    }

    /// Clears the live line and returns the table: messages per topic, most first.
    pub fn finish(mut self) -> String {
        if let Some(bar) = self.live.take() {
            bar.finish_and_clear();
        }
        let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
        let mut topics: Vec<(&String, &Topic)> = self.topics.iter().collect();
        topics.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
        let width = topics
            .iter()
            .take(TOP)
            .map(|(topic, _)| topic.chars().count())
            .max()
            .unwrap_or(0)
            .max("topic".len());
        let mut table = format!(
            "{:<width$}  {:>10}  {:>10}  {:>10}\n",
            "topic", "messages", "per second", "last size"
        );
        for (topic, entry) in topics.iter().take(TOP) {
            let _ = writeln!(
                table,
                "{topic:<width$}  {:>10}  {:>10.1}  {:>10}",
                entry.count,
                entry.count as f64 / seconds,
                format!("{} B", entry.last_size)
            );
        }
        if topics.len() > TOP {
            let _ = writeln!(table, "... and {} more topics", topics.len() - TOP);
        }
        let _ = writeln!(
            table,
            "{} on {} in {:.1} s: {:.1}/s, {}/s",
            counted(self.messages, "message"),
            counted(topics.len() as u64, "topic"),
            seconds,
            self.messages as f64 / seconds,
            bytes(self.bytes as f64 / seconds)
        );
        table
    }
}

/// `1 message`, `2 messages`.
fn counted(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// A byte rate as people read it.
fn bytes(rate: f64) -> String {
    if rate >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", rate / (1024.0 * 1024.0))
    } else if rate >= 1024.0 {
        format!("{:.1} KiB", rate / 1024.0)
    } else {
        format!("{rate:.0} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_the_busiest_topics_first_and_at_most_twenty() {
        let mut stats = Stats::start();
        for n in 0..25 {
            for _ in 0..=n {
                stats.record(&format!("t/{n:02}"), n);
            }
        }
        let table = stats.finish();
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("topic"), "{table}");
        assert!(
            lines[1].starts_with("t/24") && lines[1].contains("25"),
            "{table}"
        );
        assert!(lines[1].ends_with("24 B"), "{table}");
        assert_eq!(lines[21], "... and 5 more topics", "{table}");
        assert!(
            lines[22].starts_with("325 messages on 25 topics"),
            "{table}"
        );
    }

    #[test]
    fn one_is_singular() {
        let mut stats = Stats::start();
        stats.record("only", 3);
        assert!(stats.finish().contains("1 message on 1 topic in"));
    }
}
