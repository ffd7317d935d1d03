//! A message as the formats print it: what arrived, its payload as `--decode` read it, and when
//! it arrived.

use std::time::SystemTime;

use crate::payload::Decoded;
use crate::types::Received;

#[derive(Clone, Copy)]
pub struct Arrival<'a> {
    pub received: &'a Received,
    pub decoded: &'a Decoded,
    pub now: SystemTime,
}
