//! Where an identity JWT comes from, as saved in the profile and as
//! `--identity` spells it: `file:PATH`, `env`, `env:NAME`,
//! `command:PROGRAM ARGS…`, `github-actions`, `gcp`, `azure`, `buildkite`,
//! `azure-pipelines[:ID]`, `aws`, `auto`, `login`,
//! `client-credentials`. Fetching is [`crate::source`]'s.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where the identity JWT comes from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum IdentitySource {
    /// A file re-read on every exchange (Kubernetes projected tokens, SPIFFE helper).
    File { path: String },
    /// The provider's pair of variables: `ANTHROPIC_IDENTITY_TOKEN_FILE`, then
    /// `ANTHROPIC_IDENTITY_TOKEN`; or `OPENAI_IDENTITY_TOKEN_FILE`, then
    /// `OPENAI_IDENTITY_TOKEN`.
    Env,
    /// A program that prints a JWT, run without a shell.
    Command { argv: Vec<String> },
    /// The sign-in session of `keyless login`: a fresh JWT per exchange.
    Login,
    /// The OAuth client-credentials grant at the profile's issuer.
    ClientCredentials {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resource: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
    },
    /// The JWT in the variable `name` (GitLab CI `id_tokens`, CircleCI,
    /// Bitbucket, HCP Terraform), re-read per exchange.
    EnvNamed { name: String },
    /// GitHub Actions' OIDC token endpoint (`permissions: id-token: write`).
    GithubActions,
    /// Google's metadata server (GCE, GKE, Cloud Run, Cloud Functions).
    Gcp,
    /// AWS STS `GetWebIdentityToken`, signed with the AWS credentials found
    /// as the AWS SDKs find them. Never chosen by `auto`.
    Aws,
    /// Azure managed identity: AKS workload identity file, App Service,
    /// Arc, or the VM's IMDS (the resource must be given as the audience).
    Azure,
    /// The Buildkite agent's OIDC endpoint.
    Buildkite,
    /// Azure DevOps' OIDC endpoint, optionally for a service connection.
    AzurePipelines {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service_connection: Option<String>,
    },
    /// Detected from the environment, in a documented order.
    Auto,
}

impl IdentitySource {
    /// Parse `file:PATH`, `env` or `command:PROGRAM ARGS…` (split into words
    /// by the platform's rules, [`crate::command_line`], but never run by a
    /// shell).
    pub fn parse(spec: &str) -> Result<Self> {
        let hint = "use file:PATH, env, env:NAME, command:PROGRAM ARGS…, github-actions, gcp, azure, buildkite, azure-pipelines[:SERVICE_CONNECTION_ID], aws, auto, login, or client-credentials";
        if spec == "env" {
            return Ok(IdentitySource::Env);
        }
        if spec == "login" {
            return Ok(IdentitySource::Login);
        }
        if spec == "github-actions" {
            return Ok(IdentitySource::GithubActions);
        }
        if spec == "gcp" {
            return Ok(IdentitySource::Gcp);
        }
        if spec == "aws" {
            return Ok(IdentitySource::Aws);
        }
        if spec == "auto" {
            return Ok(IdentitySource::Auto);
        }
        if spec == "azure" {
            return Ok(IdentitySource::Azure);
        }
        if spec == "buildkite" {
            return Ok(IdentitySource::Buildkite);
        }
        if spec == "azure-pipelines" {
            return Ok(IdentitySource::AzurePipelines {
                service_connection: None,
            });
        }
        if let Some(id) = spec.strip_prefix("azure-pipelines:") {
            let ok = !id.is_empty()
                && id.len() <= 64
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !ok {
                return Err(Error::usage(format!(
                    "--identity azure-pipelines:{id} does not name a service connection id"
                ))
                .hint("use the service connection's id (a GUID): azure-pipelines:00000000-0000-0000-0000-000000000000"));
            }
            return Ok(IdentitySource::AzurePipelines {
                service_connection: Some(id.to_string()),
            });
        }
        if let Some(name) = spec.strip_prefix("env:") {
            let ok = name.len() <= 128
                && name.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                return Err(Error::usage(format!(
                    "--identity env:{name} is not a variable name"
                ))
                .hint("use an upper-case variable name, as CI systems export them: env:GITLAB_ID_TOKEN"));
            }
            return Ok(IdentitySource::EnvNamed {
                name: name.to_string(),
            });
        }
        if spec == "client-credentials" {
            return Ok(IdentitySource::ClientCredentials {
                resource: None,
                scope: None,
            });
        }
        if let Some(path) = spec.strip_prefix("file:") {
            if path.is_empty() {
                return Err(Error::usage("--identity file: needs a path").hint(hint));
            }
            return Ok(IdentitySource::File {
                path: path.to_string(),
            });
        }
        if let Some(cmd) = spec.strip_prefix("command:") {
            let argv = crate::command_line::split(cmd).map_err(|e| {
                Error::usage(format!(
                    "cannot split the --identity command into words: {e}"
                ))
                .hint(crate::command_line::QUOTING_HINT)
            })?;
            if argv.is_empty() {
                return Err(Error::usage("--identity command: needs a program").hint(hint));
            }
            return Ok(IdentitySource::Command { argv });
        }
        if spec.contains("eyJ") || spec.len() > 200 {
            return Err(Error::usage(
                "--identity looks like a token itself, not a source (not shown)",
            )
            .hint(
                "put the JWT in a file and use file:PATH, or use env with ANTHROPIC_IDENTITY_TOKEN or OPENAI_IDENTITY_TOKEN",
            ));
        }
        Err(Error::usage(format!("unknown identity source {spec:?}")).hint(hint))
    }

    /// The inverse of [`IdentitySource::parse`], for display and cache keys.
    pub fn spec(&self) -> String {
        match self {
            IdentitySource::File { path } => format!("file:{path}"),
            IdentitySource::Env => "env".to_string(),
            IdentitySource::Command { argv } => {
                format!("command:{}", crate::command_line::join(argv))
            }
            IdentitySource::Login => "login".to_string(),
            IdentitySource::EnvNamed { name } => format!("env:{name}"),
            IdentitySource::GithubActions => "github-actions".to_string(),
            IdentitySource::Gcp => "gcp".to_string(),
            IdentitySource::Aws => "aws".to_string(),
            IdentitySource::Auto => "auto".to_string(),
            IdentitySource::Azure => "azure".to_string(),
            IdentitySource::Buildkite => "buildkite".to_string(),
            IdentitySource::AzurePipelines { service_connection } => match service_connection {
                Some(id) => format!("azure-pipelines:{id}"),
                None => "azure-pipelines".to_string(),
            },
            IdentitySource::ClientCredentials { resource, scope } => {
                let mut s = "client-credentials".to_string();
                if let Some(r) = resource {
                    s.push_str(&format!(" resource={r}"));
                }
                if let Some(sc) = scope {
                    s.push_str(&format!(" scope={sc}"));
                }
                s
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_specs_round_trip() {
        for s in [
            "env",
            "file:/var/run/token",
            "command:gcloud auth print-identity-token '--audiences=a b'",
            "env:GITLAB_ID_TOKEN",
            "github-actions",
            "gcp",
            "aws",
            "auto",
            "azure",
            "buildkite",
            "azure-pipelines",
            "azure-pipelines:6b9e2a1c-0d4f-4c55-9a7e-1f2e3d4c5b6a",
        ] {
            let parsed = IdentitySource::parse(s).unwrap();
            assert_eq!(IdentitySource::parse(&parsed.spec()).unwrap(), parsed);
        }
        assert_eq!(
            IdentitySource::parse("command:a 'b c'").unwrap(),
            IdentitySource::Command {
                argv: vec!["a".into(), "b c".into()]
            }
        );
        assert!(IdentitySource::parse("file:").is_err());
        assert!(IdentitySource::parse("command:").is_err());
        assert!(IdentitySource::parse("gcloud").is_err());
        assert!(IdentitySource::parse("env:lower").is_err());
        assert!(IdentitySource::parse("env:").is_err());
        assert!(IdentitySource::parse("azure-pipelines:").is_err());
        assert!(IdentitySource::parse("azure-pipelines:a&b=c").is_err());
    }
}

/// `--identity`'s parser for the command line: any text (the real check is
/// [`IdentitySource::parse`], with its hints), but with the sources'
/// names and prefixes as the values shell completion offers, so that a
/// completion never lists file names.
#[derive(Clone, Debug)]
pub struct SpecParser;

/// What completion offers for `--identity`.
pub const COMPLETIONS: &[&str] = &[
    "file:",
    "env",
    "env:",
    "command:",
    "login",
    "client-credentials",
    "auto",
    "github-actions",
    "gcp",
    "azure",
    "aws",
    "buildkite",
    "azure-pipelines",
];

impl clap::builder::TypedValueParser for SpecParser {
    type Value = String;
    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }
    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            COMPLETIONS
                .iter()
                .map(|v| clap::builder::PossibleValue::new(*v)),
        ))
    }
}
