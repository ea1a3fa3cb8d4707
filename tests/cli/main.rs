//! One integration-test target (one link): the real binary, hermetic.

mod common;
mod fake;

mod assets;
mod cache;
mod config;
mod env;
mod exec;
mod sandbox;
mod sdk;
mod single_use;
mod status;
mod wire;
