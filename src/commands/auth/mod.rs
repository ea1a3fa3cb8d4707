//! `keyless auth …`: [`status`] reports which credential wins here and
//! whether keyless can serve; [`render`] is its human form.

pub mod render;
pub mod status;

use clap::Subcommand;

use crate::error::Result;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Report the credential precedence, static keys and keyless's state
    #[command(
        after_help = "Exit status: 0 when keyless can serve every configured provider and \
nothing static shadows it here; 1 otherwise, with the reasons on stderr and in the JSON. Without \
--check it makes no network call and runs no identity command."
    )]
    Status(status::StatusArgs),
}

pub fn run(settings: &Settings, cmd: &AuthCommand) -> Result<()> {
    match cmd {
        AuthCommand::Status(args) => status::run(settings, args),
    }
}
