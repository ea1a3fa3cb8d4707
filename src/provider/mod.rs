//! Token exchanges at the API providers: Anthropic's RFC 7523 jwt-bearer grant.

pub mod anthropic;

use crate::secret::Secret;

/// A token minted by a provider.
#[derive(Debug)]
pub struct Minted {
    pub access_token: Secret<String>,
    pub token_type: String,
    pub expires_in: i64,
}

/// Tokens end up in headers, environment variables and shell assignments:
/// refuse anything but printable, space-free ASCII, whatever the server sent.
pub fn plausible_token(token: &str) -> bool {
    !token.is_empty() && token.len() <= 16384 && token.bytes().all(|b| b.is_ascii_graphic())
}
