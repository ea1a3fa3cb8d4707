//! The AI clients keyless configures and inspects, each with a home of its
//! own: Claude Code ([`claude_code`]) and Codex ([`codex`]): what their
//! configuration holds and how they rank credentials. [`scan`] looks for
//! static keys where they still live (shell startup files, `.env`/`.envrc`
//! up to the repository root, Claude Code's settings, Windows' registry
//! environment), at each platform's [`places`]. Read by `setup`,
//! `auth status` and `exec --refresh`; nothing here writes.

pub mod claude_code;
pub mod codex;
pub mod places;
pub mod registry;
pub mod scan;
