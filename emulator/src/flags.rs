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

#[cfg(test)]
mod tests {
    use super::boolish;

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
