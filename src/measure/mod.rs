//! What `mqtt-cli bench` measures, apart from the network: the payload header that carries a
//! publisher's index, sequence number and send time; HDR latency histograms; the report (table,
//! JSON, the saved file `bench merge` adds up, the Prometheus text of `--metrics-listen`); and the `--fail-if` conditions CI checks.

pub mod condition;
pub mod header;
pub mod openmetrics;
pub mod report;
