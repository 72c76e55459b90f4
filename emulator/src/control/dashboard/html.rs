//! Small helpers for writing HTML by hand: escaping, path segments, durations.

use std::fmt::Write;

/// `text` safe inside HTML text and quoted attribute values: `& < > " '` escaped.
/// Every piece of user-controlled text (user names, User-Agents, session ids, device
/// names) goes through this before it reaches a page.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `segment` percent-encoded for one path segment of a URL: everything but RFC 3986's
/// unreserved characters. Escape the result with [`esc`] when it goes into an attribute.
pub fn path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A length of time for people: `45s`, `29m 59s`, `2h 5m`, `3d 4h`.
pub fn human_secs(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) if s == 0 => format!("{m}m"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) if m == 0 => format!("{h}h"),
        (0, _, _) => format!("{h}h {m}m"),
        _ if h == 0 => format!("{d}d"),
        _ => format!("{d}d {h}h"),
    }
}

/// The same length as the clock API's duration syntax (`90s`, `30m`, `1d`), for forms.
pub fn duration_arg(secs: u64) -> String {
    match secs {
        s if s > 0 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s > 0 && s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Markup in user-controlled text comes out as text.
    #[test]
    fn escaping_neutralises_markup() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(esc("plain curl/8.0"), "plain curl/8.0");
    }

    /// Path segments keep only unreserved characters.
    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(path_segment("admin6021d6c3"), "admin6021d6c3");
        assert_eq!(path_segment("a/b?c d\"<"), "a%2Fb%3Fc%20d%22%3C");
        assert_eq!(path_segment("é"), "%C3%A9");
    }

    /// Durations read the way people write them.
    #[test]
    fn durations_for_people_and_forms() {
        assert_eq!(human_secs(45), "45s");
        assert_eq!(human_secs(1799), "29m 59s");
        assert_eq!(human_secs(1800), "30m");
        assert_eq!(human_secs(7500), "2h 5m");
        assert_eq!(human_secs(86_400 * 3 + 3600 * 4), "3d 4h");
        assert_eq!(duration_arg(1800), "30m");
        assert_eq!(duration_arg(86_400), "1d");
        assert_eq!(duration_arg(90), "90s");
        assert_eq!(duration_arg(7200), "2h");
    }
}
