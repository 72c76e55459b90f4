//! Token and id generation: a CSPRNG by default, reproducible with a seed.

use base64::Engine as _;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::{IdFormat, TokenFormat};
use crate::clock::Now;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Makes tokens and session ids. ChaCha20 seeded from the OS, or from `--seed`.
#[derive(Clone, Debug)]
pub struct IdGenerator {
    rng: ChaCha20Rng,
    counter: u64,
}

impl IdGenerator {
    /// Seeded from the operating system's entropy.
    pub fn from_entropy(counter_start: u64) -> IdGenerator {
        IdGenerator { rng: ChaCha20Rng::from_os_rng(), counter: counter_start }
    }

    /// Reproducible: the same seed gives the same tokens and ids.
    pub fn seeded(seed: u64, counter_start: u64) -> IdGenerator {
        IdGenerator { rng: ChaCha20Rng::seed_from_u64(seed), counter: counter_start }
    }

    /// A new token.
    pub fn token(&mut self, format: TokenFormat) -> String {
        match format {
            TokenFormat::Hex32 => self.hex(32),
            TokenFormat::Base32Upper26 => {
                let mut bytes = [0u8; 17];
                self.rng.fill_bytes(&mut bytes);
                let value = u128::from_be_bytes(bytes[..16].try_into().expect("16 bytes"));
                // 130 bits: 128 from `value`, 2 from the extra byte.
                let mut out = String::with_capacity(26);
                let high = u32::from(bytes[16] & 0b11);
                out.push(BASE32[high as usize] as char);
                for i in (0..25).rev() {
                    out.push(BASE32[((value >> (i * 5)) & 31) as usize] as char);
                }
                out
            }
            TokenFormat::UrlSafe43 => {
                let mut bytes = [0u8; 32];
                self.rng.fill_bytes(&mut bytes);
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
            }
            TokenFormat::Uuid => self.uuid(),
        }
    }

    /// A new session id; `token` is the session's token, `user` its user.
    pub fn id(&mut self, format: IdFormat, user: &str, token: &str, now: Now) -> String {
        match format {
            IdFormat::Counter => {
                let id = self.counter;
                self.counter += 1;
                id.to_string()
            }
            IdFormat::Uuid => self.uuid(),
            IdFormat::UserUnixHexRandom => {
                let secs = u64::try_from(now.utc.timestamp()).unwrap_or(0);
                format!("{user}{secs:016x}{}", self.hex(8))
            }
            IdFormat::Hex16 => self.hex(16),
            IdFormat::Token => token.to_string(),
        }
    }

    fn hex(&mut self, digits: usize) -> String {
        let mut buffer = [0u8; 32];
        let bytes = &mut buffer[..digits.div_ceil(2)];
        self.rng.fill_bytes(bytes);
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(bytes.len() * 2);
        for &mut b in bytes {
            s.push(char::from(DIGITS[usize::from(b >> 4)]));
            s.push(char::from(DIGITS[usize::from(b & 0xf)]));
        }
        s.truncate(digits);
        s
    }

    fn uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// iLO, iDRAC: `X-Auth-Token` is 32 lower-case hex characters (ilo-idrac.md, [C][P]).
    #[test]
    fn hex32_tokens_are_32_lower_hex() {
        let t = IdGenerator::from_entropy(1).token(TokenFormat::Hex32);
        assert_eq!(t.len(), 32);
        assert!(t.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }

    /// BIG-IP tokens are 26 characters from `[A-Z2-7]` (bigip-solace.md 1.1, [C]).
    #[test]
    fn base32_tokens_are_26_chars_of_the_base32_alphabet() {
        let mut g = IdGenerator::seeded(7, 1);
        for _ in 0..100 {
            let t = g.token(TokenFormat::Base32Upper26);
            assert_eq!(t.len(), 26);
            assert!(t.bytes().all(|b| BASE32.contains(&b)), "{t}");
        }
    }

    /// Solace's `Session` cookie is 43 URL-safe characters (bigip-solace.md part 2).
    #[test]
    fn url_safe_tokens_are_43_chars() {
        let t = IdGenerator::seeded(7, 1).token(TokenFormat::UrlSafe43);
        assert_eq!(t.len(), 43);
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    /// The same seed gives the same tokens and ids; `--seed` relies on it.
    #[test]
    fn seeded_generators_are_reproducible() {
        let now = Now::at_secs(0);
        let run = || {
            let mut g = IdGenerator::seeded(42, 1);
            (g.token(TokenFormat::Hex32), g.id(IdFormat::Uuid, "u", "t", now))
        };
        assert_eq!(run(), run());
    }

    /// iLO ids: user name + 16 hex digits of Unix seconds + 8 random hex (ilo-idrac.md, [C]).
    #[test]
    fn ilo_style_ids_carry_user_and_login_time() {
        let now = Now::at_secs(0);
        let id = IdGenerator::seeded(1, 1).id(IdFormat::UserUnixHexRandom, "admin", "", now);
        let secs = now.utc.timestamp();
        assert!(id.starts_with(&format!("admin{secs:016x}")), "{id}");
        assert_eq!(id.len(), "admin".len() + 24);
    }

    /// Counter ids keep growing from their start.
    #[test]
    fn counter_ids_grow() {
        let mut g = IdGenerator::seeded(1, 74);
        let now = Now::at_secs(0);
        assert_eq!(g.id(IdFormat::Counter, "", "", now), "74");
        assert_eq!(g.id(IdFormat::Counter, "", "", now), "75");
    }
}
