//! One subscriber's view of each publisher's sequence numbers: what arrived once, twice, late.

use std::collections::HashMap;

/// One publisher's sequence numbers as seen by one subscriber.
#[derive(Default)]
struct Sequence {
    /// Bit n: sequence number `first + n` arrived.
    seen: Vec<u64>,
    first: Option<u64>,
    highest: Option<u64>,
    unique: u64,
}

/// What one message was, for the counts.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Arrival {
    New,
    /// New, but after a later message of the same publisher.
    Late,
    Duplicate,
}

/// Per publisher, for one subscriber.
#[derive(Default)]
pub(crate) struct Tracker {
    publishers: HashMap<u32, Sequence>,
    pub duplicated: u64,
    pub out_of_order: u64,
}

impl Tracker {
    /// Notes `sequence` from `publisher`. `from_zero`: sequence numbers start at 0 (our own
    /// publishers); otherwise at the first one seen (load made before we subscribed).
    pub fn arrived(&mut self, publisher: u32, sequence: u64, from_zero: bool) -> Arrival {
        let track = self.publishers.entry(publisher).or_default();
        let first = *track
            .first
            .get_or_insert(if from_zero { 0 } else { sequence });
        if sequence < first {
            // Older than the first seen (load from before): not tracked.
            return Arrival::New;
        }
        let offset = (sequence - first) as usize;
        let (word, bit) = (offset / 64, offset % 64);
        if track.seen.len() <= word {
            track.seen.resize(word + 1, 0);
        }
        if track.seen[word] & (1 << bit) != 0 {
            self.duplicated += 1;
            return Arrival::Duplicate;
        }
        track.seen[word] |= 1 << bit;
        track.unique += 1;
        let late = track.highest.is_some_and(|highest| sequence < highest);
        track.highest = Some(
            track
                .highest
                .map_or(sequence, |highest| highest.max(sequence)),
        );
        if late {
            self.out_of_order += 1;
            Arrival::Late
        } else {
            Arrival::New
        }
    }

    /// Distinct messages of `publisher` that arrived.
    pub fn unique(&self, publisher: u32) -> u64 {
        self.publishers
            .get(&publisher)
            .map_or(0, |track| track.unique)
    }

    /// Messages missing between the first and the highest sequence number seen, all publishers.
    pub fn gaps(&self) -> (u64, u64) {
        let mut expected = 0;
        let mut unique = 0;
        for track in self.publishers.values() {
            if let (Some(first), Some(highest)) = (track.first, track.highest) {
                expected += highest - first + 1;
                unique += track.unique;
            }
        }
        (expected, expected - unique)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_reordering_and_gaps() {
        let mut tracker = Tracker::default();
        assert_eq!(tracker.arrived(1, 0, true), Arrival::New);
        assert_eq!(tracker.arrived(1, 2, true), Arrival::New);
        assert_eq!(tracker.arrived(1, 1, true), Arrival::Late);
        assert_eq!(tracker.arrived(1, 2, true), Arrival::Duplicate);
        assert_eq!(tracker.arrived(1, 200, true), Arrival::New);
        assert_eq!(tracker.arrived(2, 50, false), Arrival::New);
        assert_eq!(tracker.arrived(2, 52, false), Arrival::New);
        assert_eq!(tracker.unique(1), 4);
        assert_eq!((tracker.duplicated, tracker.out_of_order), (1, 1));
        // Publisher 1: 0..=200 with 4 seen; publisher 2: 50..=52 with 2 seen.
        assert_eq!(tracker.gaps(), (201 + 3, 197 + 1));
    }
}
