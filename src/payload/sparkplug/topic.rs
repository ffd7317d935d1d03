//! Sparkplug B's topics: `spBv1.0/GROUP/TYPE/EDGE[/DEVICE]` and `spBv1.0/STATE/HOST`.

/// The topic namespace of Sparkplug B.
pub const NAMESPACE: &str = "spBv1.0";

/// A Sparkplug topic, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic<'a> {
    /// `spBv1.0/STATE/host`: a host application's JSON state.
    State { host: &'a str },
    /// `spBv1.0/group/TYPE/edge[/device]`.
    Edge {
        group: &'a str,
        kind: &'a str,
        edge: &'a str,
        device: Option<&'a str>,
    },
}

impl<'a> Topic<'a> {
    pub fn parse(topic: &'a str) -> Result<Topic<'a>, String> {
        let levels: Vec<&str> = topic.split('/').collect();
        match levels.as_slice() {
            [NAMESPACE, "STATE", host] => Ok(Topic::State { host }),
            [NAMESPACE, group, kind, edge] if kind.starts_with('N') => Ok(Topic::Edge {
                group,
                kind,
                edge,
                device: None,
            }),
            [NAMESPACE, group, kind, edge, device] if kind.starts_with('D') => Ok(Topic::Edge {
                group,
                kind,
                edge,
                device: Some(device),
            }),
            _ => Err(format!(
                "not a Sparkplug B topic ({NAMESPACE}/GROUP/TYPE/EDGE[/DEVICE] or \
                 {NAMESPACE}/STATE/HOST)"
            )),
        }
    }
}
