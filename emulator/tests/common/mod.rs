//! What the tests that drive real clients share.

use std::path::PathBuf;

/// Where `ci/clients/setup.sh` put the clients' virtual environments:
/// `SESSIONLAB_CLIENTS_DIR`, or `clients/` in the Cargo target directory.
pub fn clients_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SESSIONLAB_CLIENTS_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("clients")
}

/// Under CI (`CI=true`) a missing client fails its test instead of skipping it.
pub fn strict() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}
