//! HMAC keys prepared once, tags computed over the signed parts in place, constant-time checks.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The hash function under the HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Digest {
    /// HMAC-SHA256, 32-byte MACs.
    #[default]
    Sha256,
    /// HMAC-SHA1, 20-byte MACs. Still sent by some providers (FullEnrich); HMAC-SHA1 remains
    /// unbroken as a MAC even though SHA-1 collisions exist.
    Sha1,
}

impl Digest {
    /// The MAC length in bytes.
    #[must_use]
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha1 => 20,
        }
    }
}

/// Longest MAC we produce (SHA-256): 32 bytes.
pub(crate) const MAX_TAG_LEN: usize = 32;

/// An HMAC key with its inner and outer pads already absorbed, so each verification starts from a
/// clone of this state instead of hashing the key again. The state is wiped on drop.
#[derive(Clone)]
pub(crate) enum MacKey {
    Sha256(Hmac<sha2::Sha256>),
    Sha1(Hmac<sha1::Sha1>),
}

impl MacKey {
    pub(crate) fn new(digest: Digest, key: &[u8]) -> Self {
        // HMAC accepts keys of any length, so these constructors cannot fail.
        match digest {
            Digest::Sha256 => Self::Sha256(
                <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key)
                    .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length")),
            ),
            Digest::Sha1 => Self::Sha1(
                <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(key)
                    .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length")),
            ),
        }
    }

    /// The MAC of the concatenation of `parts`, computed without concatenating them.
    pub(crate) fn tag(&self, parts: &[&[u8]]) -> Tag {
        match self {
            Self::Sha256(state) => Tag::of(state.clone(), parts),
            Self::Sha1(state) => Tag::of(state.clone(), parts),
        }
    }
}

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sha256(_) => f.write_str("MacKey::Sha256([REDACTED])"),
            Self::Sha1(_) => f.write_str("MacKey::Sha1([REDACTED])"),
        }
    }
}

/// A computed MAC. Knowing it allows forging the message it covers, so it is wiped on drop and
/// only ever compared in constant time.
pub(crate) struct Tag {
    bytes: Zeroizing<[u8; MAX_TAG_LEN]>,
    len: usize,
}

impl Tag {
    /// Finishes a prepared MAC over `parts`, fed in place.
    fn of<M: Mac>(mut mac: M, parts: &[&[u8]]) -> Self {
        for part in parts {
            mac.update(part);
        }
        let out = mac.finalize().into_bytes();
        let mut bytes = Zeroizing::new([0; MAX_TAG_LEN]);
        bytes[..out.len()].copy_from_slice(&out);
        Self {
            bytes,
            len: out.len(),
        }
    }

    /// Constant-time equality with a decoded candidate of `len` bytes, zero-padded to
    /// [`MAX_TAG_LEN`] as every decoder here produces it. A length mismatch (public information)
    /// is a plain `false`.
    ///
    /// The comparison runs over four 64-bit words with `subtle`'s constant-time primitives: the
    /// same guarantee as a byte-wise `ct_eq`, with a quarter of the optimization barriers.
    pub(crate) fn matches(&self, candidate: &[u8; MAX_TAG_LEN], len: usize) -> bool {
        if len != self.len {
            return false;
        }
        let mut equal = subtle::Choice::from(1);
        for (ours, theirs) in self.bytes.chunks_exact(8).zip(candidate.chunks_exact(8)) {
            equal &= word(ours).ct_eq(&word(theirs));
        }
        bool::from(equal)
    }

    /// The MAC bytes, for signing.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Eight bytes as one word (the slices always have eight bytes: they come from `chunks_exact`).
fn word(bytes: &[u8]) -> u64 {
    let mut out = [0u8; 8];
    out.copy_from_slice(bytes);
    u64::from_le_bytes(out)
}

/// Standard base64 that accepts input with or without padding (senders differ).
pub(crate) const BASE64_LENIENT: base64::engine::GeneralPurpose =
    base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );

/// Decodes a base64 signature of exactly `N` bytes into a stack buffer. Anything else — empty,
/// truncated, too long, bad characters — is `None`.
pub(crate) fn decode_base64<const N: usize>(encoded: &[u8]) -> Option<[u8; N]> {
    // Base64 of N bytes is at most 4 * ceil(N / 3) characters: refuse longer input before decoding.
    if encoded.is_empty() || encoded.len() > N.div_ceil(3) * 4 {
        return None;
    }
    let mut out = [0u8; N];
    // decode_slice needs room for the worst-case estimate, which can exceed N by up to 2 bytes.
    let mut buf = [0u8; 96];
    let written = BASE64_LENIENT
        .decode_slice(encoded, &mut buf[..(N.div_ceil(3) * 3).min(96)])
        .ok()?;
    if written != N {
        return None;
    }
    out.copy_from_slice(&buf[..N]);
    Some(out)
}

/// Decodes a hex signature of exactly `len` bytes (`len <= 32`), either letter case.
pub(crate) fn decode_hex(encoded: &[u8], len: usize) -> Option<[u8; MAX_TAG_LEN]> {
    if encoded.len() != len * 2 || len > MAX_TAG_LEN {
        return None;
    }
    let mut out = [0u8; MAX_TAG_LEN];
    hex::decode_to_slice(encoded, &mut out[..len]).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_over_parts_equals_tag_over_concatenation() {
        let key = MacKey::new(Digest::Sha256, b"key");
        let split = key.tag(&[b"ab", b".", b"cd"]);
        let whole = key.tag(&[b"ab.cd"]);
        let mut padded = [0u8; MAX_TAG_LEN];
        padded.copy_from_slice(whole.as_bytes());
        assert!(split.matches(&padded, 32));
        assert!(!split.matches(&padded, 31));
        for byte in 0..MAX_TAG_LEN {
            let mut changed = padded;
            changed[byte] ^= 0x80;
            assert!(!split.matches(&changed, 32), "byte {byte}");
        }
    }

    #[test]
    fn short_tags_compare_on_their_length() {
        let key = MacKey::new(Digest::Sha1, b"key");
        let tag = key.tag(&[b"x"]);
        let mut padded = [0u8; MAX_TAG_LEN];
        padded[..20].copy_from_slice(tag.as_bytes());
        assert!(tag.matches(&padded, 20));
        assert!(!tag.matches(&padded, 32));
        padded[19] ^= 1;
        assert!(!tag.matches(&padded, 20));
    }

    /// Compiles only if the digest states are wiped on drop. A prepared `Hmac<D>` is two of
    /// them (the key XOR ipad and XOR opad absorbed) plus a block buffer; it has no wiping of its
    /// own, so this needs the `zeroize` features of `sha2` and `sha1`, not only that of `hmac`.
    #[test]
    fn prepared_keys_are_wiped_on_drop() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<sha2::Sha256>();
        wiped_on_drop::<sha1::Sha1>();
    }

    #[test]
    fn rfc2202_hmac_sha1_case_1() {
        let key = MacKey::new(Digest::Sha1, &[0x0b; 20]);
        let tag = key.tag(&[b"Hi There"]);
        assert_eq!(
            hex::encode(tag.as_bytes()),
            "b617318655057264e28bc0b6fb378c8ef146be00"
        );
    }

    #[test]
    fn base64_decoding_is_exact() {
        let bytes = [7u8; 32];
        let padded = base64::engine::general_purpose::STANDARD.encode(bytes);
        let unpadded = padded.trim_end_matches('=');
        assert_eq!(decode_base64::<32>(padded.as_bytes()), Some(bytes));
        assert_eq!(decode_base64::<32>(unpadded.as_bytes()), Some(bytes));
        assert_eq!(decode_base64::<32>(&padded.as_bytes()[..40]), None);
        assert_eq!(decode_base64::<32>(b""), None);
        assert_eq!(decode_base64::<32>(&[b'A'; 400]), None);
        assert_eq!(decode_base64::<32>("éé".as_bytes()), None);
        let sig = [9u8; 64];
        let encoded = base64::engine::general_purpose::STANDARD.encode(sig);
        assert_eq!(decode_base64::<64>(encoded.as_bytes()), Some(sig));
    }

    #[test]
    fn hex_decoding_is_exact() {
        let decoded = decode_hex(b"00ffAB", 3).expect("valid hex");
        assert_eq!(&decoded[..3], &[0, 255, 171]);
        assert!(decode_hex(b"00ff", 3).is_none());
        assert!(decode_hex(b"zz", 1).is_none());
        assert!(decode_hex(b"", 0).is_some_and(|b| b == [0; 32]));
    }
}
