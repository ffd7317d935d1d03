//! Hexadecimal text for bytes: `-F %x`, `--payload-encoding hex`, `hex:` correlation data.

/// Two digits per byte, lower or upper case.
pub fn encode(bytes: &[u8], upper: bool) -> String {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(digits[usize::from(byte >> 4)]));
        text.push(char::from(digits[usize::from(byte & 0x0f)]));
    }
    text
}

/// The bytes of an even number of hex digits (either case).
pub fn decode(text: &str) -> Result<Vec<u8>, String> {
    if !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(format!("'{text}' is not hex"));
    }
    if !text.len().is_multiple_of(2) {
        return Err(format!("'{text}' is not hex: odd number of digits"));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("'{text}' is not hex"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(encode(b"\x00\xffa", false), "00ff61");
        assert_eq!(encode(b"\xab", true), "AB");
        assert_eq!(decode("00FF61"), Ok(b"\x00\xffa".to_vec()));
        assert!(decode("abc").is_err());
        assert!(decode("zz").is_err());
        assert!(decode("+1").is_err());
    }
}
