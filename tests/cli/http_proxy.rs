//! Proxies from the environment: honoured for remote hosts (tests/cli/anthropic/wire.rs),
//! never for loopback, whatever `NO_PROXY` says.

use crate::common::*;
use crate::fake::{Fake, Reply};

const TOKEN: &str = "sk-ant-oat01-realTOKENfromTheEndpoint_0123";
const PROXY_TOKEN: &str = "sk-ant-oat01-madeUPbyTheProxy_0123456789";

/// Each proxy variable, against an endpoint on each loopback spelling: the
/// request reaches the endpoint directly and the proxy sees nothing, so the
/// assertion never leaves in cleartext and the proxy's token is not served.
#[test]
fn loopback_is_never_proxied() {
    let proxy = Fake::start(|_, _| Reply::token(PROXY_TOKEN, 600));
    let fake = Fake::start(|_, _| Reply::token(TOKEN, 600));
    let port = fake.url.rsplit(':').next().unwrap().to_string();
    let mut hosts = vec![
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
    ];
    // [::1] only where the machine has IPv6 loopback.
    let v6 = Fake::try_start_at("[::1]:0", |_, _| Reply::token(TOKEN, 600));
    if let Some(v6) = &v6 {
        hosts.push(v6.url.clone());
    }
    for base in &hosts {
        let (env, file) = env_with_file_source(base);
        for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
            for no_proxy in [None, Some("example.com")] {
                std::fs::write(&file, shaped_jwt(300)).unwrap();
                let r = env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
                    c.env(var, &proxy.url);
                    if let Some(n) = no_proxy {
                        c.env("NO_PROXY", n);
                    }
                });
                r.success();
                assert_eq!(r.stdout, TOKEN, "{var} for {base}");
                assert_eq!(proxy.count(), 0, "{var} proxied {base}");
            }
        }
    }
}
