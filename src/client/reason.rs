//! MQTT reason codes, named as the MQTT 5 specification names them (§2.4), so that no failure
//! reaches the user as a bare number or an enum variant.

use std::fmt;

/// A reason code the broker sent, with its reason string if it gave one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: u8,
    /// The Reason String property (MQTT 5), meant for people.
    pub text: Option<String>,
    /// An MQTT 3.1.1 return code, named as that specification names it.
    v311: bool,
}

impl Reason {
    pub fn new(code: u8, text: Option<String>) -> Reason {
        Reason {
            code,
            text,
            v311: false,
        }
    }

    /// MQTT 3.1.1's SUBACK return code 0x80, "Failure" (it has no reason codes).
    pub fn v311_subscribe_failure() -> Reason {
        Reason {
            code: 0x80,
            text: None,
            v311: true,
        }
    }

    /// Codes of 0x80 and above are failures (MQTT 5 §2.4).
    pub fn is_failure(&self) -> bool {
        self.code >= 0x80
    }

    /// The specification's name for the code.
    pub fn name(&self) -> &'static str {
        name(self.code)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.v311 {
            return write!(f, "Failure (return code 0x{:02x})", self.code);
        }
        write!(f, "{} (reason code {})", self.name(), self.code)?;
        if let Some(text) = &self.text {
            write!(f, ": {text}")?;
        }
        Ok(())
    }
}

/// The name of a reason code. Some codes mean different things in different packets
/// (0x00 is "Success", "Normal disconnection" or "Granted QoS 0"); the name given is the one
/// for acknowledgements, which is where they are read.
pub fn name(code: u8) -> &'static str {
    match code {
        0x00 => "Success",
        0x01 => "Granted QoS 1",
        0x02 => "Granted QoS 2",
        0x04 => "Disconnect with Will Message",
        0x10 => "No matching subscribers",
        0x11 => "No subscription existed",
        0x18 => "Continue authentication",
        0x19 => "Re-authenticate",
        0x80 => "Unspecified error",
        0x81 => "Malformed Packet",
        0x82 => "Protocol Error",
        0x83 => "Implementation specific error",
        0x84 => "Unsupported Protocol Version",
        0x85 => "Client Identifier not valid",
        0x86 => "Bad User Name or Password",
        0x87 => "Not authorized",
        0x88 => "Server unavailable",
        0x89 => "Server busy",
        0x8A => "Banned",
        0x8B => "Server shutting down",
        0x8C => "Bad authentication method",
        0x8D => "Keep Alive timeout",
        0x8E => "Session taken over",
        0x8F => "Topic Filter invalid",
        0x90 => "Topic Name invalid",
        0x91 => "Packet Identifier in use",
        0x92 => "Packet Identifier not found",
        0x93 => "Receive Maximum exceeded",
        0x94 => "Topic Alias invalid",
        0x95 => "Packet too large",
        0x96 => "Message rate too high",
        0x97 => "Quota exceeded",
        0x98 => "Administrative action",
        0x99 => "Payload format invalid",
        0x9A => "Retain not supported",
        0x9B => "QoS not supported",
        0x9C => "Use another server",
        0x9D => "Server moved",
        0x9E => "Shared Subscriptions not supported",
        0x9F => "Connection rate exceeded",
        0xA0 => "Maximum connect time",
        0xA1 => "Subscription Identifiers not supported",
        0xA2 => "Wildcard Subscriptions not supported",
        _ => "unknown reason code",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_display() {
        let denied = Reason::new(0x87, None);
        assert!(denied.is_failure());
        assert_eq!(denied.to_string(), "Not authorized (reason code 135)");
        let taken = Reason::new(0x8E, Some("another client connected".into()));
        assert_eq!(
            taken.to_string(),
            "Session taken over (reason code 142): another client connected"
        );
        assert!(!Reason::new(0x10, None).is_failure());
        assert_eq!(name(0x7F), "unknown reason code");
    }
}
