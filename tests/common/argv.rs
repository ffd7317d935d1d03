//! A command line written as a shell would read it: `argv("pub -t 'a b' -m \"x y\"")` is
//! `["pub", "-t", "a b", "-m", "x y"]`. Single quotes keep everything, double quotes keep all but
//! `\"` and `\\`, a backslash outside quotes escapes the next character, and `#` at the start of
//! a word begins a comment. No expansion of any kind.

/// The words of `line`, as `sh` would split it.
pub fn argv(line: &str) -> Vec<String> {
    words(line).unwrap_or_else(|why| panic!("{why}: {line}"))
}

/// The words of `line`, or why they cannot be read (an unclosed quote).
pub fn words(line: &str) -> Result<Vec<String>, &'static str> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => words.extend(word.take()),
            '#' if word.is_none() => break,
            '\'' => {
                let word = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("an unclosed single quote"),
                    }
                }
            }
            '"' => {
                let word = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("an unclosed double quote"),
                        },
                        Some(c) => word.push(c),
                        None => return Err("an unclosed double quote"),
                    }
                }
            }
            '\\' => {
                if let Some(c) = chars.next() {
                    word.get_or_insert_with(String::new).push(c);
                }
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}
