//! `keyless exec --proxy -- CMD`: keep programs that read a key once
//! (curl loops, LiteLLM, LangChain, notebooks, the OpenAI SDKs) signed in
//! for as long as they run, without the token ever entering their
//! environment.
//!
//! For each provider served, keyless listens on 127.0.0.1 (an ephemeral
//! port) and gives the child `ANTHROPIC_BASE_URL` / `OPENAI_BASE_URL`
//! pointing there, plus a random per-run capability in
//! `ANTHROPIC_AUTH_TOKEN` / `OPENAI_API_KEY`. A request must present the
//! capability and name the listener in `Host` ([`gate`]); keyless then
//! forwards it to the profile's real API with the current token
//! ([`forward`]), renewing the token ahead of expiry and once on a 401
//! ([`tokens`]). The listener lives as long as keyless, which stays the
//! child's parent and exits with its status ([`child`]).

// bench.sh's build without the gate leaves the gate's code unused.
#[cfg_attr(feature = "bench-no-gate", allow(dead_code, unused_imports))]
mod forward;
#[cfg_attr(feature = "bench-no-gate", allow(dead_code))]
mod gate;
mod h1close;
mod h1request;
mod h1serve;
mod headers;
mod listen;
mod sink_listener;
mod tokens;

use std::ffi::OsString;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::IssuerConfig;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::handoff::child_env::{ChildEnv, Mode};
use crate::handoff::{Assignment, contain, supervise};
use crate::output;
use crate::provider::{Configured, Provider, choice};
use crate::secret::Secret;
use crate::settings::{Freshness, Settings};
use forward::Shared;
use gate::Capability;
pub use sink_listener::SinkListener;
use tokens::Tokens;

/// Run `command` behind a proxy for each provider in `types` (every
/// configured one when empty); exits with the child's status.
pub fn run(
    settings: &Settings,
    types: &[Provider],
    fresh: Freshness,
    command: &[OsString],
) -> Result<()> {
    let loaded = settings.load_config()?;
    let issuer = settings.issuer(&loaded);
    let grace = contain::grace()?;
    // One thread serves every connection, as one nginx worker does: on a
    // small machine a second worker only moves a request's tasks between
    // cores (measured in docs/performance.md).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::failure(format!("cannot start the async runtime: {e}")))?;
    // Room for the connections the listeners keep; the child gets the
    // limits keyless was given.
    let (saved_nofile, nofile) = listen::raise_nofile();
    let limits = listen::Limits::for_nofile(nofile);
    let mut vars = Vec::new();
    let mut served = Vec::new();
    let mut named = Vec::new();
    for target in choice::to_serve(settings, &loaded, types)? {
        served.push(target.provider());
        if let crate::config::IdentitySource::EnvNamed { name } = target.identity() {
            named.push(name.clone());
        }
        vars.extend(start(&rt, settings, target, issuer.clone(), fresh, limits)?);
    }
    vars.extend(no_proxy_for_loopback());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("keyless-proxy".into())
        .spawn(move || {
            rt.block_on(async {
                let _ = stopped.await;
            });
            // The listeners and the renewal tasks end with the run.
            rt.shutdown_background();
        })
        .map_err(|e| Error::failure(format!("cannot start the proxy's thread: {e}")))?;
    let mut cmd = ChildEnv::new(Mode::Proxy, &served, false)
        .with_named_sources(named)
        .command(command, &vars);
    listen::restore_nofile(&mut cmd, saved_nofile);
    // The child and all it starts die with keyless, and keyless outlives
    // them (src/handoff/contain.rs): the port is never freed under them.
    let contained = contain::contain(&mut cmd, grace);
    let child = supervise::spawn(cmd, &command[0]);
    // What the child leaves running keeps the port reserved, answered 503,
    // until it exits or the supervisor stops it after the grace period.
    contained.on_exit(|| forward::CLOSING.store(true, std::sync::atomic::Ordering::SeqCst));
    let status = child.and_then(|c| {
        c.exited
            .recv()
            .map_err(|_| Error::failure("lost track of the child"))
    });
    forward::CLOSING.store(true, std::sync::atomic::Ordering::SeqCst);
    contain::drain();
    let _ = stop.send(());
    supervise::finish(status?)
}

/// Start one provider's listener and renewal task; the child's variables.
fn start(
    rt: &tokio::runtime::Runtime,
    settings: &Settings,
    target: Configured,
    issuer: Option<IssuerConfig>,
    fresh: Freshness,
    limits: listen::Limits,
) -> Result<Vec<Assignment>> {
    let provider = target.provider();
    let upstream = upstream(&target)?;
    let client = crate::http::api::client_for_api(&upstream, target.ca_file(), limits.total)?;
    let listener = {
        let _guard = rt.enter();
        bind()
    }
    .map_err(|e| {
        Error::failure(format!(
            "cannot listen on 127.0.0.1 for the {} proxy: {}",
            provider.title(),
            crate::error::io_reason(&e)
        ))
    })?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::failure(format!("cannot read the proxy's address: {e}")))?
        .port();
    let capability = Capability::random();
    let key = Secret::new(capability.expose().to_string());
    let tokens = Tokens::start(settings, target.clone(), issuer, fresh)?;
    let shared = Arc::new(Shared::new(
        &target, port, capability, upstream, client, tokens,
    ));
    let serving = shared.clone();
    rt.spawn(listen::serve(listener, limits, move |req, conn| {
        forward::handle(serving.clone(), req, conn)
    }));
    rt.spawn(renew(shared.clone()));
    if cfg!(feature = "bench-no-gate") {
        output::warn(
            "this keyless is bench.sh's build without the proxy's gate: it forwards every request",
        );
    }
    let local = format!("http://127.0.0.1:{port}");
    output::info(&format!(
        "proxy: {} API calls to {local} go to {} with a token keyless renews",
        provider.title(),
        shared.upstream
    ));
    Ok(match provider {
        Provider::Anthropic => vec![
            Assignment::Set(env_vars::ANTHROPIC_BASE_URL, Secret::new(local)),
            Assignment::Set(env_vars::ANTHROPIC_AUTH_TOKEN, key),
        ],
        Provider::Openai => vec![
            Assignment::Set(
                env_vars::OPENAI_BASE_URL,
                Secret::new(format!("{local}/v1")),
            ),
            Assignment::Set(env_vars::OPENAI_API_KEY, key),
        ],
    })
}

/// A fresh capability, for `keyless agent --capability-file`.
pub fn new_capability() -> String {
    Capability::random().expose().to_string()
}

/// `keyless agent`'s proxy sink: `target`'s gate on `listener` for
/// requests that present `capability`, forwarded with the token `renewer`
/// keeps. The agent drives the schedule; a 401 renews through the same
/// engine, so the agent's other sinks get the replacement too.
pub fn serve_sink(
    rt: &tokio::runtime::Runtime,
    target: &Configured,
    listener: SinkListener,
    capability: String,
    renewer: Arc<crate::handoff::renewal::Renewer<'static>>,
) -> Result<()> {
    let (_, nofile) = listen::raise_nofile();
    let limits = listen::Limits::for_nofile(nofile);
    let upstream = upstream(target)?;
    let client = crate::http::api::client_for_api(&upstream, target.ca_file(), limits.total)?;
    let failed = |e: std::io::Error| {
        Error::failure(format!(
            "cannot serve the {} proxy sink: {}",
            target.provider().title(),
            crate::error::io_reason(&e)
        ))
    };
    let port = listener.port().map_err(failed)?;
    let tokens = Tokens::shared(renewer);
    let shared = Arc::new(Shared::new(
        target,
        port,
        Capability::kept(capability),
        upstream,
        client,
        tokens,
    ));
    let handle = move |req, conn| forward::handle(shared.clone(), req, conn);
    let _guard = rt.enter();
    listener.spawn(rt, limits, handle).map_err(failed)
}

/// A listener on 127.0.0.1 (an ephemeral port) with room in its accept
/// queue for a burst of connections.
fn bind() -> std::io::Result<tokio::net::TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind((std::net::Ipv4Addr::LOCALHOST, 0).into())?;
    socket.listen(1024)
}

/// The API the requests go to: the profile's base URL for Anthropic; for
/// OpenAI, the caller's `OPENAI_BASE_URL` when it names one (https, or
/// http on loopback), else the profile's.
fn upstream(target: &Configured) -> Result<url::Url> {
    let inherited = match target {
        Configured::OpenAi(_) => crate::provider::openai::env_base_url(
            std::env::var(env_vars::OPENAI_BASE_URL).ok().as_deref(),
        )?,
        Configured::Anthropic(_) => None,
    };
    let base = target.api_base(inherited.as_deref());
    url::Url::parse(&base)
        .map_err(|e| Error::config(format!("the API base {base:?} is not a URL: {e}")))
}

/// A child behind an HTTP proxy must reach the listener directly.
fn no_proxy_for_loopback() -> Vec<Assignment> {
    use env_vars as ev;
    let any_proxy = [
        ev::HTTP_PROXY,
        ev::HTTP_PROXY_LOWER,
        ev::HTTPS_PROXY,
        ev::HTTPS_PROXY_LOWER,
        ev::ALL_PROXY,
        ev::ALL_PROXY_LOWER,
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
    if !any_proxy {
        return Vec::new();
    }
    [ev::NO_PROXY, ev::NO_PROXY_LOWER]
        .into_iter()
        .map(|name| {
            let list = match ev::var(name) {
                Some(v) => format!("{v},127.0.0.1,localhost"),
                _ => "127.0.0.1,localhost".to_string(),
            };
            Assignment::Set(name, Secret::new(list))
        })
        .collect()
}

/// Renew the token when it is due, so requests rarely wait for an exchange.
async fn renew(shared: Arc<Shared>) {
    loop {
        let due = UNIX_EPOCH + Duration::from_millis(shared.tokens.next_due_ms().max(0) as u64);
        if let Ok(wait) = due.duration_since(SystemTime::now()) {
            tokio::time::sleep(wait).await;
        }
        let _ = shared.tokens.get().await;
        // A failed renewal moved `due` on by its backoff; never spin.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
