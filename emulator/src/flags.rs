//! Command-line conventions both binaries share.

/// A boolean from a flag's environment twin, read as CI systems write them: `true`,
/// `1`, `yes`, `on` are true; `false`, `0`, `no`, `off` and the empty string (what a CI
/// system gives for an unset input) are false, in any case. Anything else is refused
/// with the accepted words, never guessed.
pub fn boolish(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        _ => Err("use true/false, 1/0, yes/no or on/off (empty means false)".to_string()),
    }
}

/// `text` with every control character (newline, escape, ...) written as a Rust escape
/// (`\n`, `\u{1b}`): what a log line may show of a client-supplied string.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::{boolish, escape_controls};

    /// Issue 13 (log injection): control characters from clients are escaped, the rest
    /// kept as is.
    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_controls("admin"), "admin");
        assert_eq!(escape_controls("a\nINFO forged\u{1b}[31m"), "a\\nINFO forged\\u{1b}[31m");
        assert_eq!(escape_controls("naïve"), "naïve");
    }

    /// Issue 14: `SESSIONLAB_TLS=1` and an empty value work as CI users expect.
    #[test]
    fn boolean_twins_accept_what_ci_systems_write() {
        for yes in ["true", "TRUE", "1", "yes", "On", " true "] {
            assert_eq!(boolish(yes), Ok(true), "{yes}");
        }
        for no in ["false", "0", "no", "OFF", ""] {
            assert_eq!(boolish(no), Ok(false), "{no}");
        }
        assert!(boolish("banana").is_err());
    }
}
