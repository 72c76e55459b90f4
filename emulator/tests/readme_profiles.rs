//! The README's table of session types, limits and timeouts is the embedded profiles'
//! own: it is generated from them, and this test keeps the copy in the README equal. The
//! README also keeps each section once.

use emulator::profile::{session_table, Profile, EMBEDDED};

const START: &str = "<!-- session-table:start (generated from fixtures/profiles; emulator/tests/readme_profiles.rs) -->\n";
const END: &str = "<!-- session-table:end -->";

/// Issue 12: README lists each profile's session types, pools, limits and timeouts in one
/// table, and it matches the profiles.
#[test]
fn readme_session_table_matches_the_profiles() {
    let profiles: Vec<Profile> =
        EMBEDDED.iter().map(|(name, _)| Profile::embedded(name).expect("embedded")).collect();
    let expected = session_table(&profiles);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let start = readme.find(START).map(|i| i + START.len());
    let end = readme.find(END);
    let (Some(start), Some(end)) = (start, end) else {
        panic!("README.md lacks the markers; put this table between them:\n{START}{expected}{END}");
    };
    assert_eq!(
        &readme[start..end],
        expected,
        "README.md's session table is stale; replace it with:\n{expected}"
    );
}

/// Every section of the README has its own heading: a heading that appears twice means a
/// part of the README was pasted twice (it happened once, by an editing slip).
#[test]
fn readme_sections_appear_once() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let mut seen = std::collections::HashSet::new();
    let mut in_code = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        }
        if !in_code && line.starts_with('#') {
            assert!(seen.insert(line), "README.md has the heading {line:?} twice");
        }
    }
}
