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
//!   and the templates; the new setup replaces the old once it has started
//!   (a configuration that does not load or start is logged and the agent
//!   goes on as it was);
//! - rejected (SIGUSR1, `keyless agent --rejected`): the API refused the
//!   token, exchange a new one now.
//!
//! A renewal that fails keeps the current token in place and retries on
//! the engine's backoff; a second before a token expires with no
//! replacement, every file sink holding it is removed (and the ready
//! file), so no reader ever finds an expired token; the next successful
//! renewal, whoever asks for it, writes them all again (and the ready
//! file: [`outputs`] keeps sinks and ready file as one state).
//!
//! A start checks and binds everything before its first exchange, and
//! removes what it wrote if it fails after all.

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
    /// Every place the agent writes or listens on, for the single-instance
    /// lock: resolved (symbolic links, `..`), so that two names for one
    /// file are one place.
    fn places(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self.sinks.iter().flat_map(Sink::places).collect();
        v.extend(self.ready_file.clone());
        v.extend(self.capability_file.clone());
        let mut v: Vec<PathBuf> = v.iter().map(|p| instance::resolved(p)).collect();
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
    let instance = Instance::claim(&instance::lock_dir(), &opts.places())?;
    let control = Control::start(&instance.key)?;
    let mut running = Running::start(settings, opts, opts.fresh, Cleanup::Remove)?;
    loop {
        let wait = (running.next_wake_ms() - now_ms()).clamp(0, 3_600_000) as u64;
        match control.rx.recv_timeout(Duration::from_millis(wait)) {
            Ok(Event::Reload) => {
                output::info("agent: told to reload: re-reading the configuration");
                match Plan::build(settings, &opts.sinks, opts.access) {
                    Ok(_) => {
                        let fresh = Freshness {
                            force_refresh: false,
                            ..opts.fresh
                        };
                        running = running.reload(settings, opts, fresh);
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
pub fn ask(opts: &Options, r: Request) -> Result<Vec<u32>> {
    let holders = Instance::holders(&instance::lock_dir(), &opts.places())?;
    if holders.is_empty() {
        return Err(Error::failure("no keyless agent serves these sinks")
            .hint("name the same --sink values the agent was started with"));
    }
    for h in &holders {
        control::ask(h, r)?;
    }
    Ok(holders.iter().map(|h| h.pid).collect())
}

/// One provider's token and its engine.
struct Feed {
    provider: Provider,
    target: crate::provider::Configured,
    renewer: Arc<Renewer<'static>>,
}

/// What a started agent holds; replaced whole on reload.
struct Running {
    /// The file sinks and the ready file (one serialised state).
    outputs: Arc<Outputs>,
    feeds: Vec<Feed>,
    /// The proxy sinks' key and listeners.
    capability: Option<String>,
    proxy_addrs: Vec<(Provider, sink::ProxyAddr)>,
    proxies: Option<proxy_sink::Proxies>,
    access: Access,
}

impl Running {
    /// Check and bind everything first, then exchange: a start that fails
    /// spends no exchange on a bad configuration or a taken port, and
    /// leaves no token behind (`Cleanup::Remove`; a reload keeps what the
    /// running agent serves and puts it back itself).
    fn start(
        settings: &Settings,
        opts: &Options,
        fresh: Freshness,
        cleanup: Cleanup,
    ) -> Result<Running> {
        let plan = Plan::build(settings, &opts.sinks, opts.access)?;
        if let Some(r) = &opts.ready_file {
            write::check_place(r, opts.access).map_err(|e| {
                e.hint("the ready file goes where the sinks may go: a directory of the agent's own")
            })?;
        }
        let capability = match &opts.capability_file {
            Some(path) if !plan.proxies.is_empty() => Some(capability::load_or_create(
                path,
                opts.access,
                crate::proxy::new_capability,
            )?),
            _ => None,
        };
        let bound = proxy_sink::Bound::bind(&plan.proxies, opts.access)?;
        plan.write_profiles()?;
        let outputs = Arc::new(plan.outputs);
        let started = Self::exchange(settings, &plan.targets, plan.issuer, &outputs, fresh)
            .and_then(|feeds| {
                let proxies = match &capability {
                    Some(key) => Some(bound.serve(&serving(&feeds), key)?),
                    None => None,
                };
                Ok((feeds, proxies))
            });
        let (feeds, proxies) = match started {
            Ok(s) => s,
            Err(e) => {
                match cleanup {
                    Cleanup::Remove => outputs.clear_all(),
                    Cleanup::Keep => outputs.close(),
                }
                return Err(e);
            }
        };
        let r = Running {
            outputs,
            feeds,
            capability,
            proxy_addrs: plan.proxies,
            proxies,
            access: opts.access,
        };
        // A cached token already due is replaced before anyone is told to read.
        r.tick();
        r.outputs.arm_ready(
            opts.ready_file.clone(),
            r.feeds.iter().map(|f| f.provider).collect(),
        );
        output::info(&format!(
            "agent (pid {}): serving {}",
            std::process::id(),
            opts.sinks
                .iter()
                .map(Sink::describe)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        Ok(r)
    }

    /// Each target's first token, in its sinks, and its renewal engine.
    fn exchange(
        settings: &Settings,
        targets: &[crate::provider::Configured],
        issuer: Option<crate::config::IssuerConfig>,
        outputs: &Arc<Outputs>,
        fresh: Freshness,
    ) -> Result<Vec<Feed>> {
        let mut feeds = Vec::new();
        for target in targets {
            let p = target.provider();
            let first = acquire::token(settings, target, issuer.as_ref(), fresh)?;
            outputs.deliver(p, &first)?;
            let owned = owned(settings);
            let issuer = issuer.clone();
            let out = outputs.clone();
            let fetched = target.clone();
            let renewer = Renewer::new(SCHEDULE, first, move |f| {
                acquire::token(&owned, &fetched, issuer.as_ref(), f)
            })
            .deliver_to(move |t| out.deliver(p, t));
            feeds.push(Feed {
                provider: p,
                target: target.clone(),
                renewer: Arc::new(renewer),
            });
        }
        Ok(feeds)
    }

    /// Reload: the new setup replaces this one once it has started; if it
    /// cannot start, this one goes on as it was (its listeners bound
    /// again, its tokens written again over whatever the attempt wrote).
    fn reload(mut self, settings: &Settings, opts: &Options, fresh: Freshness) -> Running {
        // The new listeners need the ports and sockets.
        if let Some(p) = self.proxies.take() {
            p.stop();
        }
        match Running::start(settings, opts, fresh, Cleanup::Keep) {
            Ok(new) => {
                self.outputs.close();
                new
            }
            Err(e) => {
                output::warn(&format!(
                    "agent: the new configuration cannot start, going on with the old one: {e}"
                ));
                self.resume();
                self
            }
        }
    }

    /// Serve again after a reload that failed.
    fn resume(&mut self) {
        for f in &self.feeds {
            let cur = f.renewer.current();
            if cur.expires_at * 1000 - EXPIRY_GUARD_MS > now_ms()
                && let Err(e) = self.outputs.deliver(f.provider, &cur)
            {
                output::warn(&format!("agent: {e}"));
            }
        }
        if let Some(key) = &self.capability {
            let served = proxy_sink::Bound::bind(&self.proxy_addrs, self.access)
                .and_then(|b| b.serve(&serving(&self.feeds), key));
            match served {
                Ok(p) => self.proxies = Some(p),
                Err(e) => output::warn(&format!("agent: the proxy sinks are not served: {e}")),
            }
        }
        self.tick();
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
    fn tick(&self) {
        for f in &self.feeds {
            if f.renewer.is_due() {
                let _ = f.renewer.renew(Reason::Due);
            }
            self.outputs.clear_expiring(f.provider, EXPIRY_GUARD_MS);
        }
    }

    /// The API refused the current tokens.
    fn rejected(&self) {
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

    /// Stop serving; `remove` empties the file sinks (the agent exits).
    fn stop(self, remove: bool) {
        if let Some(p) = self.proxies {
            p.stop();
        }
        if remove {
            self.outputs.clear_all();
        } else {
            self.outputs.close();
        }
    }
}

/// What a start that fails does with the sinks it may have written.
#[derive(Clone, Copy)]
enum Cleanup {
    /// Remove them: no agent keeps them fresh.
    Remove,
    /// Leave them to the running agent, which writes them again.
    Keep,
}

/// The proxy sinks' view of the feeds.
fn serving(feeds: &[Feed]) -> Vec<(crate::provider::Configured, Arc<Renewer<'static>>)> {
    feeds
        .iter()
        .map(|f| (f.target.clone(), f.renewer.clone()))
        .collect()
}

/// Settings owned by the renewal closure.
fn owned(s: &Settings) -> Settings {
    Settings::fixed(s.config_dir.clone(), s.cache_dir.clone(), &s.profile)
}
