//! Java's `UUID.nameUUIDFromBytes`: MD5 of the name with the version set to 3 and the
//! IETF variant. BIG-IP names users by it in `user <uuid> has reached maximum active
//! login tokens` (F5 K59142111 quotes `21232f29-7a57-35a7-8389-4a0e4a801fc3` for
//! "admin") and the `tmos` login provider in `loginReference`
//! (`1f44a60e-11a7-3c51-a49f-82983026b41b`).
//!
//! The digest comes from the `md-5` crate and the version and variant bits from
//! `uuid::Builder::from_md5_bytes`; it names things and protects nothing.

use md5::{Digest, Md5};

/// Java `UUID.nameUUIDFromBytes(name.getBytes(UTF_8)).toString()`.
pub fn name_uuid_from_bytes(name: &[u8]) -> String {
    let digest: [u8; 16] = Md5::digest(name).into();
    uuid::Builder::from_md5_bytes(digest).into_uuid().hyphenated().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// F5 K59142111 quotes `user 21232f29-7a57-35a7-8389-4a0e4a801fc3` for admin, and
    /// F5's login example names the `tmos` provider `1f44a60e-11a7-3c51-a49f-82983026b41b`.
    #[test]
    fn name_uuids_match_the_ones_big_ip_shows() {
        assert_eq!(name_uuid_from_bytes(b"admin"), "21232f29-7a57-35a7-8389-4a0e4a801fc3");
        assert_eq!(name_uuid_from_bytes(b"tmos"), "1f44a60e-11a7-3c51-a49f-82983026b41b");
    }

    /// Java's `nameUUIDFromBytes` of the empty name (`d41d8cd9-8f00-3204-a980-0998ecf8427e`,
    /// MD5 of "" with the version and variant bits set).
    #[test]
    fn empty_name_matches_java() {
        assert_eq!(name_uuid_from_bytes(b""), "d41d8cd9-8f00-3204-a980-0998ecf8427e");
    }
}
