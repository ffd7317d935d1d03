//! mosquitto's `-D COMMAND PROPERTY VALUE` (`--property`; a user property takes `KEY VALUE`),
//! rewritten into the flags that send the same MQTT 5 property before clap parses the command
//! line: `-D publish content-type text` is `--content-type text`. As in mosquitto, `-D` implies
//! `-V 5` unless the protocol version is given. Properties mqtt-cli cannot send yet, and
//! properties of a packet the subcommand does not send, are refused by name.

use std::ffi::OsString;

/// mosquitto's packet names for `-D`, and its property names (MQTT 5, §3).
const COMMANDS: &[&str] = &[
    "connect",
    "publish",
    "subscribe",
    "unsubscribe",
    "disconnect",
    "will",
    "auth",
    "puback",
    "pubrec",
    "pubrel",
    "pubcomp",
    "suback",
    "unsuback",
];

/// Every property mosquitto's `-D` knows, and the packets it allows each on (its
/// `mosquitto_property_check_command`, with what mosquitto_pub/sub refuse themselves removed).
const PROPERTIES: &[(&str, &[&str])] = &[
    ("payload-format-indicator", &["publish", "will"]),
    ("message-expiry-interval", &["publish", "will"]),
    ("content-type", &["publish", "will"]),
    ("response-topic", &["publish", "will"]),
    ("correlation-data", &["publish", "will"]),
    ("subscription-identifier", &["subscribe"]),
    ("session-expiry-interval", &["connect", "disconnect"]),
    ("assigned-client-identifier", &[]),
    ("server-keep-alive", &[]),
    ("authentication-method", &["connect"]),
    ("authentication-data", &["connect"]),
    ("request-problem-information", &["connect"]),
    ("will-delay-interval", &["will"]),
    ("request-response-information", &["connect"]),
    ("response-information", &[]),
    ("server-reference", &["disconnect"]),
    ("reason-string", &["disconnect"]),
    ("receive-maximum", &["connect"]),
    ("topic-alias-maximum", &["connect"]),
    ("topic-alias", &["publish"]),
    ("maximum-qos", &[]),
    ("retain-available", &[]),
    (
        "user-property",
        &[
            "connect",
            "publish",
            "subscribe",
            "unsubscribe",
            "disconnect",
            "will",
        ],
    ),
    ("maximum-packet-size", &["connect"]),
    ("wildcard-subscription-available", &[]),
    ("subscription-identifier-available", &[]),
    ("shared-subscription-available", &[]),
];

/// Our flag for a property of a packet, on subcommand `sub`: `Ok(Some(flag))`, `Ok(None)` when
/// mqtt-cli does not send it yet, `Err` when this subcommand does not send that packet.
fn flag_for(sub: &str, command: &str, property: &str) -> Result<Option<&'static str>, String> {
    let sends = match command {
        "connect" | "will" | "disconnect" => sub != "check",
        "publish" => matches!(sub, "pub" | "rr"),
        "subscribe" | "unsubscribe" => matches!(sub, "sub" | "rr"),
        _ => false,
    };
    if sub == "check" {
        return Err(format!(
            "mqtt-cli check makes its own packets: drop -D {command} {property}"
        ));
    }
    if !sends {
        return Err(format!(
            "mqtt-cli {sub} sends no {} packet: drop -D {command} {property}",
            command.to_uppercase()
        ));
    }
    Ok(match (command, property) {
        ("connect", "session-expiry-interval") => Some("--session-expiry"),
        ("connect", "receive-maximum") => Some("--receive-maximum"),
        ("connect", "maximum-packet-size") => Some("--maximum-packet-size"),
        ("connect", "user-property") => Some("--connect-user-property"),
        ("will", "will-delay-interval") => Some("--will-delay"),
        ("will", "message-expiry-interval") => Some("--will-message-expiry"),
        ("will", "content-type") => Some("--will-content-type"),
        ("will", "response-topic") => Some("--will-response-topic"),
        ("will", "correlation-data") => Some("--will-correlation-data"),
        ("will", "payload-format-indicator") => Some("--will-payload-format"),
        ("will", "user-property") => Some("--will-user-property"),
        ("publish", "content-type") => Some("--content-type"),
        ("publish", "user-property") => Some("--user-property"),
        ("publish", "correlation-data") => Some("--correlation-data"),
        ("publish", "message-expiry-interval") if sub == "pub" => Some("--message-expiry"),
        ("publish", "response-topic") if sub == "pub" => Some("--response-topic"),
        ("publish", "payload-format-indicator") if sub == "pub" => Some("--payload-format"),
        ("publish", "topic-alias") if sub == "pub" => Some("--topic-alias"),
        ("subscribe", "subscription-identifier") if sub == "sub" => Some("--subscription-id"),
        _ => None,
    })
}

/// The flags each `-D` in `argv` stands for (after the subcommand, `argv[1]`), and `-V 5` when
/// there is a `-D` or (as in mosquitto 2.1) a `-x` session expiry, and no protocol version. `takes_value(token)`: whether an option of the
/// subcommand takes the next token as its value (so `-m -D` publishes "-D").
pub fn rewrite(
    argv: Vec<OsString>,
    takes_value: impl Fn(&str) -> bool,
) -> Result<Vec<OsString>, String> {
    let Some(sub) = argv.get(1).and_then(|sub| sub.to_str()).map(str::to_string) else {
        return Ok(argv);
    };
    let mut out: Vec<OsString> = argv[..2].to_vec();
    let mut rest = argv.into_iter().skip(2);
    let mut implies_v5 = false;
    let mut version_given = false;
    while let Some(token) = rest.next() {
        let Some(text) = token.to_str().map(str::to_string) else {
            out.push(token);
            continue;
        };
        if text == "--" {
            out.push(token);
            out.extend(rest.by_ref());
            break;
        }
        if text != "-D" && text != "--property" {
            if text == "-V"
                || text.starts_with("--protocol-version")
                || short_cluster_has(&text, 'V')
            {
                version_given = true;
            }
            if text == "-x" || text.starts_with("--session-expiry") {
                implies_v5 = true;
            }
            let value_follows = takes_value(&text);
            out.push(token);
            if value_follows && let Some(value) = rest.next() {
                out.push(value);
            }
            continue;
        }
        let mut next = |what: &str| {
            rest.next()
                .and_then(|value| value.into_string().ok())
                .ok_or_else(|| {
                    format!("{text} needs COMMAND PROPERTY VALUE (mosquitto's form, e.g. -D publish content-type text/plain): the {what} is missing")
                })
        };
        let (flag, value) = translate(&sub, &mut next)?;
        out.push(flag.into());
        out.push(value.into());
        implies_v5 = true;
    }
    if implies_v5 && !version_given {
        out.push("-V".into());
        out.push("5".into());
    }
    Ok(out)
}

/// One mosquitto `-D COMMAND PROPERTY VALUE` (its words read by `next`) as the flag of
/// `mqtt-cli SUB` that sends it, and that flag's value.
fn translate(
    sub: &str,
    next: &mut impl FnMut(&str) -> Result<String, String>,
) -> Result<(&'static str, String), String> {
    let command = next("command")?.to_lowercase();
    if !COMMANDS.contains(&command.as_str()) {
        return Err(format!(
            "-D {command}: not a packet name (connect, publish, subscribe, unsubscribe, disconnect, will)"
        ));
    }
    let property = next("property")?.to_lowercase();
    let Some((_, allowed)) = PROPERTIES.iter().find(|(name, _)| *name == property) else {
        return Err(format!(
            "-D {command} {property}: not an MQTT 5 property name (e.g. content-type, user-property, message-expiry-interval)"
        ));
    };
    if !allowed.contains(&command.as_str()) {
        return Err(format!(
            "-D {command} {property}: MQTT 5 does not allow {property} in {}",
            command.to_uppercase()
        ));
    }
    let value = if property == "user-property" {
        let key = next("key")?;
        let value = next("value")?;
        if key.contains('=') {
            return Err(format!(
                "-D {command} user-property '{key}': a key with '=' cannot be sent by mqtt-cli"
            ));
        }
        format!("{key}={value}")
    } else {
        next("value")?
    };
    let Some(flag) = flag_for(sub, &command, &property)? else {
        return Err(format!(
            "-D {command} {property}: mqtt-cli {sub} cannot send this property yet"
        ));
    };
    let value = if property == "payload-format-indicator" {
        match value.as_str() {
            "0" => "binary".to_string(),
            "1" => "utf8".to_string(),
            _ => {
                return Err(format!(
                    "-D {command} payload-format-indicator {value}: 0 (bytes) or 1 (UTF-8)"
                ));
            }
        }
    } else {
        value
    };
    Ok((flag, value))
}

/// `-qV` style clusters of short flags that contain `letter`.
fn short_cluster_has(text: &str, letter: char) -> bool {
    text.len() > 2
        && text.starts_with('-')
        && !text.starts_with("--")
        && text[1..].starts_with(letter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(args: &[&str]) -> Result<Vec<String>, String> {
        let argv = std::iter::once("mqtt-cli")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        rewrite(argv, |token| ["-m", "-t"].contains(&token)).map(|argv| {
            argv.into_iter()
                .skip(1)
                .map(|arg| arg.into_string().expect("UTF-8"))
                .collect()
        })
    }

    #[test]
    fn a_session_expiry_implies_v5_as_in_mosquitto_2_1() {
        let strings = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        assert_eq!(
            rewritten(&["pub", "-x", "60", "-c", "-i", "a"]),
            Ok(strings(&["pub", "-x", "60", "-c", "-i", "a", "-V", "5"]))
        );
        assert_eq!(
            rewritten(&["sub", "--session-expiry=1h", "-V", "311"]),
            Ok(strings(&["sub", "--session-expiry=1h", "-V", "311"])),
            "a version given stands"
        );
        assert_eq!(
            rewritten(&["pub", "-m", "-x", "-t", "a"]),
            Ok(strings(&["pub", "-m", "-x", "-t", "a"])),
            "-x as -m's value is a message"
        );
    }

    #[test]
    fn each_property_becomes_our_flag_and_implies_v5() {
        assert_eq!(
            rewritten(&[
                "pub",
                "-t",
                "a",
                "-D",
                "publish",
                "content-type",
                "text",
                "-D",
                "connect",
                "user-property",
                "k",
                "v"
            ]),
            Ok(vec![
                "pub",
                "-t",
                "a",
                "--content-type",
                "text",
                "--connect-user-property",
                "k=v",
                "-V",
                "5"
            ]
            .into_iter()
            .map(String::from)
            .collect())
        );
        assert_eq!(
            rewritten(&[
                "sub",
                "-V",
                "5",
                "--property",
                "subscribe",
                "subscription-identifier",
                "7"
            ]),
            Ok(vec!["sub", "-V", "5", "--subscription-id", "7"]
                .into_iter()
                .map(String::from)
                .collect())
        );
        assert_eq!(
            rewritten(&["pub", "-D", "will", "payload-format-indicator", "1"])
                .map(|argv| argv[1..3].to_vec()),
            Ok(vec![
                "--will-payload-format".to_string(),
                "utf8".to_string()
            ])
        );
    }

    #[test]
    fn values_of_other_options_are_left_alone() {
        assert_eq!(
            rewritten(&["pub", "-m", "-D", "-t", "a"]),
            Ok(vec!["pub", "-m", "-D", "-t", "a"]
                .into_iter()
                .map(String::from)
                .collect())
        );
    }

    #[test]
    fn what_cannot_be_sent_is_named() {
        let error = |args: &[&str]| rewritten(args).expect_err("refused");
        assert!(
            error(&["pub", "-D", "connect", "authentication-method", "x"])
                .contains("cannot send this property yet")
        );
        assert!(
            error(&["sub", "-D", "publish", "content-type", "x"])
                .contains("sends no PUBLISH packet")
        );
        assert!(
            error(&["pub", "-D", "connect", "content-type", "x"])
                .contains("does not allow content-type in CONNECT")
        );
        assert!(error(&["pub", "-D", "conect", "x", "y"]).contains("not a packet name"));
        assert!(error(&["pub", "-D", "publish", "colour", "x"]).contains("not an MQTT 5 property"));
        assert!(
            error(&["pub", "-D", "publish", "user-property", "k"]).contains("the value is missing")
        );
        assert!(
            error(&["pub", "-D", "publish", "payload-format-indicator", "2"])
                .contains("0 (bytes) or 1")
        );
    }
}
