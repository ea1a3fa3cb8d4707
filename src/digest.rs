//! Hashing: SHA-256 in lowercase hex, how keyless names a secret without
//! keeping it (the single-use ledger, cache keys, served marks), and the hex
//! encoding itself. Nothing here parses tokens.

use sha2::{Digest, Sha256};

/// SHA-256 of `token`, hex: what the single-use ledger records.
pub fn sha256_hex(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub fn hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(H[(b >> 4) as usize] as char);
        s.push(H[(b & 15) as usize] as char);
    }
    s
}
