//! `keyless agent`: a long-running process that keeps one exchange's token
//! fresh for programs keyless does not start, through sinks ([`sink`]):
//! the Anthropic SDKs' profile files, raw token files, rendered templates,
//! and the `exec --proxy` gate as a shared endpoint.
//!
//! Each provider's token is kept by one [`Renewer`] (the renewal engine
//! every long-running consumer shares) on the SDK-profile schedule, so a
//! new token is in every sink before the SDKs' own windows (expiry − 120 s
//! advisory, − 30 s expired); each renewal is one exchange through the
//! usual cache, lock and ledger, whatever number of sinks and readers.
//! The proxy sinks' 401s renew through the same engine, so the file sinks
//! get the replacement too.
//!
//! The main thread sleeps until a renewal is due, a token is about to
//! expire, or it is told something ([`control`]: signals on Unix, console
//! events and named events on Windows):
//! - stop (SIGTERM, SIGINT; Ctrl-C, Ctrl-Break, console close): remove the
//!   file sinks and the ready file, exit 0;
//! - reload (SIGHUP, `keyless agent --reload`): re-read the configuration
//!   and the templates (a bad one is logged and the agent goes on as it was);
//! - rejected (SIGUSR1, `keyless agent --rejected`): the API refused the
//!   token, exchange a new one now.
//!
//! A renewal that fails keeps the current token in place and retries on
//! the engine's backoff; a second before a token expires with no
//! replacement, every file sink holding it is removed (and the ready
//! file), so no reader ever finds an expired token; the next successful
//! renewal writes them all again.

mod capability;
pub mod control;
mod instance;
mod outputs;
mod plan;
mod proxy_sink;
pub mod sink;
pub mod template;
pub mod write;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use crate::acquire;
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::handoff::renewal::{Reason, Renewer, Schedule};
use crate::output;
use crate::provider::Provider;
use crate::settings::{Freshness, Settings};
pub use control::Request;
use control::{Control, Event};
use instance::Instance;
use outputs::Outputs;
use plan::Plan;
use sink::Sink;
use write::Access;

/// The SDK profile's schedule (the agent writes SDK profiles, and a token
/// file's readers are no less late), under the agent's name in the logs.
const SCHEDULE: Schedule = {
    let mut s = Schedule::SDK_PROFILE;
    s.who = "agent";
    s
};

/// Sinks are emptied this long before their token expires, unless renewed.
const EXPIRY_GUARD_MS: i64 = 1000;

pub struct Options {
    pub sinks: Vec<Sink>,
    pub access: Access,
    pub ready_file: Option<PathBuf>,
    /// The proxy sinks' key (required with a proxy sink).
    pub capability_file: Option<PathBuf>,
    pub fresh: Freshness,
}

impl Options {
    /// Every place the agent writes or listens on, for the single-instance lock.
    fn places(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self.sinks.iter().flat_map(Sink::places).collect();
        v.extend(self.ready_file.clone());
        v.extend(self.capability_file.clone());
        v.sort();
        v.dedup();
        v
    }
}

/// Run until told to stop.
pub fn run(settings: &Settings, opts: &Options) -> Result<()> {
    if opts.sinks.is_empty() {
        return Err(Error::usage("keyless agent needs at least one --sink")
            .hint("for example --sink anthropic-profile:/run/keyless/anthropic"));
    }
    let proxies = opts.sinks.iter().any(|s| matches!(s, Sink::Proxy { .. }));
    if proxies != opts.capability_file.is_some() {
        return Err(if proxies {
            Error::usage("a proxy sink needs --capability-file PATH: the key its clients present")
                .hint("keyless writes a random key there, or reuses the one already there")
        } else {
            Error::usage("--capability-file is for proxy sinks, and none is given")
        });
    }
    let _instance = Instance::claim(&settings.cache_dir, &opts.places())?;
    let control = Control::start()?;
    let mut running = Running::start(settings, opts, opts.fresh)?;
    loop {
        let wait = (running.next_wake_ms() - now_ms()).clamp(0, 3_600_000) as u64;
        match control.rx.recv_timeout(Duration::from_millis(wait)) {
            Ok(Event::Reload) => {
                output::info("agent: told to reload: re-reading the configuration");
                match Plan::build(settings, &opts.sinks, opts.access) {
                    Ok(_) => {
                        running.stop(false);
                        let fresh = Freshness {
                            force_refresh: false,
                            ..opts.fresh
                        };
                        running = match Running::start(settings, opts, fresh) {
                            Ok(r) => r,
                            Err(e) => {
                                // Nobody keeps the sinks fresh any more.
                                remove_everything(settings, opts);
                                return Err(e);
                            }
                        };
                    }
                    Err(e) => output::warn(&format!(
                        "agent: the new configuration is refused, going on with the old one: {e}"
                    )),
                }
            }
            Ok(Event::Rejected) => running.rejected(),
            Ok(Event::Stop(why)) => {
                output::info(&format!("agent: {why}: removing the sinks and stopping"));
                running.stop(true);
                return Ok(());
            }
            Err(RecvTimeoutError::Timeout) => running.tick(),
            Err(RecvTimeoutError::Disconnected) => {
                running.stop(true);
                return Err(Error::failure("the agent lost its control thread"));
            }
        }
    }
}

/// `keyless agent --rejected` / `--reload`: ask the agent serving these
/// sinks to replace its token now, or to re-read its configuration.
/// Returns the pids asked.
pub fn ask(settings: &Settings, opts: &Options, r: Request) -> Result<Vec<u32>> {
    let pids = Instance::holders(&settings.cache_dir, &opts.places())?;
    if pids.is_empty() {
        return Err(Error::failure("no keyless agent serves these sinks")
            .hint("name the same --sink values the agent was started with"));
    }
    for pid in &pids {
        control::ask(*pid, r)?;
    }
    Ok(pids)
}

/// One provider's token and its engine.
struct Feed {
    provider: Provider,
    target: crate::provider::Configured,
    renewer: Arc<Renewer<'static>>,
    /// Its sinks were emptied: nothing valid is written.
    cleared: bool,
}

/// What a started agent holds; replaced whole on reload.
struct Running {
    outputs: Arc<Outputs>,
    feeds: Vec<Feed>,
    ready_file: Option<PathBuf>,
    access: Access,
    proxies: Option<proxy_sink::Proxies>,
}

impl Running {
    fn start(settings: &Settings, opts: &Options, fresh: Freshness) -> Result<Running> {
        let plan = Plan::build(settings, &opts.sinks, opts.access)?;
        plan.write_profiles()?;
        let outputs = Arc::new(plan.outputs);
        let mut feeds = Vec::new();
        for target in plan.targets {
            let p = target.provider();
            let first = acquire::token(settings, &target, plan.issuer.as_ref(), fresh)?;
            outputs.deliver(p, &first)?;
            let owned = owned(settings);
            let issuer = plan.issuer.clone();
            let out = outputs.clone();
            let fetched = target.clone();
            let renewer = Renewer::new(SCHEDULE, first, move |f| {
                acquire::token(&owned, &fetched, issuer.as_ref(), f)
            })
            .deliver_to(move |t| out.deliver(p, t));
            feeds.push(Feed {
                provider: p,
                target,
                renewer: Arc::new(renewer),
                cleared: false,
            });
        }
        let proxies = match &opts.capability_file {
            Some(path) if !plan.proxies.is_empty() => {
                let key =
                    capability::load_or_create(path, opts.access, crate::proxy::new_capability)?;
                let sinks: Vec<_> = plan
                    .proxies
                    .iter()
                    .filter_map(|(p, addr)| {
                        let f = feeds.iter().find(|f| f.provider == *p)?;
                        Some((f.target.clone(), addr.clone(), f.renewer.clone()))
                    })
                    .collect();
                Some(proxy_sink::Proxies::start(&sinks, &key, opts.access)?)
            }
            _ => None,
        };
        let mut r = Running {
            outputs,
            feeds,
            ready_file: opts.ready_file.clone(),
            access: opts.access,
            proxies,
        };
        // A cached token already due is replaced before anyone is told to read.
        r.tick();
        r.mark_ready();
        output::info(&format!(
            "agent: serving {}",
            opts.sinks
                .iter()
                .map(Sink::describe)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        Ok(r)
    }

    /// When to look again: the first renewal due, or the first written
    /// token about to expire.
    fn next_wake_ms(&self) -> i64 {
        self.feeds
            .iter()
            .flat_map(|f| {
                let expiry = self
                    .outputs
                    .expires_at(f.provider)
                    .map(|e| e * 1000 - EXPIRY_GUARD_MS);
                [Some(f.renewer.next_due_ms()), expiry]
            })
            .flatten()
            .min()
            .unwrap_or(i64::MAX)
    }

    /// Renew what is due; empty the sinks of a token about to expire.
    fn tick(&mut self) {
        for f in &mut self.feeds {
            if f.renewer.is_due() {
                match f.renewer.renew(Reason::Due) {
                    Ok(t) if t.expires_at * 1000 - EXPIRY_GUARD_MS > now_ms() => {
                        if f.cleared {
                            output::info(&format!(
                                "agent: {} token renewed; the sinks hold it again",
                                f.provider.title()
                            ));
                        }
                        f.cleared = false;
                    }
                    _ => {}
                }
            }
            let expiring = self
                .outputs
                .expires_at(f.provider)
                .is_none_or(|e| e * 1000 - EXPIRY_GUARD_MS <= now_ms());
            if expiring && !f.cleared {
                output::warn(&format!(
                    "agent: no valid {} token left; removing its file sinks until a renewal succeeds",
                    f.provider.title()
                ));
                if let Err(e) = self.outputs.clear(f.provider) {
                    output::warn(&format!("agent: {e}"));
                }
                f.cleared = true;
            }
        }
        self.mark_ready();
    }

    /// The API refused the current tokens.
    fn rejected(&mut self) {
        for f in &self.feeds {
            let cur = f.renewer.current();
            output::info(&format!(
                "agent: told the {} token was rejected; exchanging a new one",
                f.provider.title()
            ));
            let _ = f.renewer.renew(Reason::Rejected(&cur.access_token));
        }
        self.tick();
    }

    /// The ready file exists while every sink holds a valid token.
    fn mark_ready(&self) {
        let Some(path) = &self.ready_file else { return };
        let ready = self.feeds.iter().all(|f| !f.cleared);
        let r = if ready {
            if path.exists() {
                return;
            }
            write::replace(path, b"ready\n", self.access)
        } else {
            write::remove(path)
        };
        if let Err(e) = r {
            output::warn(&format!("agent: the ready file: {e}"));
        }
    }

    /// Stop serving; `remove` empties the file sinks (the agent exits).
    fn stop(self, remove: bool) {
        if let Some(p) = self.proxies {
            p.stop();
        }
        if remove {
            self.outputs.clear_all();
            if let Some(p) = &self.ready_file {
                let _ = write::remove(p);
            }
        }
    }
}

/// Remove every file sink and the ready file (an agent that cannot go on).
fn remove_everything(settings: &Settings, opts: &Options) {
    if let Ok(p) = Plan::build(settings, &opts.sinks, opts.access) {
        p.outputs.clear_all();
    }
    if let Some(r) = &opts.ready_file {
        let _ = write::remove(r);
    }
}

/// Settings owned by the renewal closure.
fn owned(s: &Settings) -> Settings {
    Settings::fixed(s.config_dir.clone(), s.cache_dir.clone(), &s.profile)
}
