
use builtin;
use str;

set edit:completion:arg-completer[keyless] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'keyless'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'keyless'= {
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand setup 'Record federation identifiers and the identity source in the config'
            cand login 'Sign in to the profile''s OpenID Connect provider (browser or device code)'
            cand logout 'Revoke and forget the sign-in session and the cached tokens'
            cand credential 'Print a valid short-lived token (cached; exchanged only when needed)'
            cand env 'Print shell assignments that hand the token to programs: eval "$(keyless env)"'
            cand exec 'Run a program with the token in its environment (never in its argv)'
            cand agent 'Keep SDK profiles, token files, templates and a shared proxy fresh for programs keyless does not start'
            cand sandbox 'Serve a local stand-in identity provider and Anthropic and OpenAI token endpoints'
            cand demo 'Try keyless end to end against an in-process sandbox, with no account'
            cand auth 'Which credential wins here, where static keys live, and whether keyless can serve'
            cand profile 'List, show, activate, remove or rename profiles'
            cand completions 'Print a shell completion script'
            cand version 'Print the version, commit, target, build date and whether this is a release build'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'keyless;setup'= {
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand anthropic 'Configure Anthropic workload identity federation for the profile'
            cand openai 'Configure OpenAI workload identity federation for the profile'
            cand issuer 'Configure the OpenID Connect provider `keyless login` signs in to'
            cand claude-code 'Wire Claude Code''s apiKeyHelper to `keyless credential anthropic`'
            cand codex 'Make Codex get its OpenAI token from `keyless credential openai`'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'keyless;setup;anthropic'= {
            cand --federation-rule-id 'Federation rule ID (fdrl_…); required the first time'
            cand --rule-id 'Federation rule ID (fdrl_…); required the first time'
            cand --organization-id 'Organization ID (a UUID, under Console > Settings > Organization); required the first time'
            cand --org 'Organization ID (a UUID, under Console > Settings > Organization); required the first time'
            cand --service-account-id 'Service account ID (svac_…)'
            cand --workspace-id 'Workspace ID (wrkspc_…, or `default`); needed when the rule covers several workspaces'
            cand --base-url 'API base URL; https, or http on 127.0.0.1, localhost or [::1]'
            cand --audience 'The audience to ask identity sources for (github-actions, gcp, buildkite, aws; azure needs it: api://<app-id>) [default: https://api.anthropic.com]; the federation rule must match it'
            cand --identity 'Where the identity JWT comes from: file:PATH, env, env:NAME, command:PROGRAM ARGS…, github-actions, gcp, azure, buildkite, azure-pipelines[:SERVICE_CONNECTION_ID], aws, auto, login, or client-credentials (the last two need `keyless setup issuer`)'
            cand --ca-file 'PEM file of extra CA certificates for a base URL behind a private CA'
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;setup;openai'= {
            cand --identity-provider-id 'Workload identity provider ID (wip_…); required the first time'
            cand --service-account-id 'Service account ID the provider''s mapping binds the identity to (not checked locally); required the first time'
            cand --token-endpoint 'Token endpoint [default: https://auth.openai.com/oauth/token]; https, or http on loopback'
            cand --identity 'Where the identity JWT comes from: file:PATH, env, env:NAME, command:PROGRAM ARGS…, github-actions, gcp, azure, buildkite, azure-pipelines[:SERVICE_CONNECTION_ID], aws, auto, login, or client-credentials (the last two need `keyless setup issuer`)'
            cand --audience 'The audience configured on the identity provider (not sent: OpenAI compares it with the JWT''s aud; keyless warns before spending a JWT for another audience, and the client-credentials source asks for it)'
            cand --ca-file 'PEM file of extra CA certificates for a token endpoint behind a private CA'
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;setup;issuer'= {
            cand --issuer 'Issuer URL, exactly as the provider publishes it (https, or http on loopback)'
            cand --client-id 'OAuth client id registered for keyless'
            cand --scope 'Scope to request (repeatable) [default: openid email profile offline_access]'
            cand --flow 'How `keyless login` signs in'
            cand --assertion 'Which token is exchanged for the API token'
            cand --audience 'Resource/audience for JWT access tokens (RFC 8707) [default: https://api.anthropic.com; for OpenAI client credentials, `setup openai --audience` wins]'
            cand --redirect-port 'Fixed loopback port for providers that register one redirect URI'
            cand --redirect-host 'Host in the redirect URI: 127.0.0.1, or localhost for providers that need it'
            cand --ca-file 'PEM file of extra CA certificates for a provider behind a private CA'
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand --client-secret-stdin 'Read a confidential client''s secret from stdin'
            cand --no-verify 'Save without fetching discovery (offline setup); checked at login instead'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;setup;claude-code'= {
            cand --scope 'Which settings file to merge into'
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand --dry-run 'Print the resulting settings file to stdout and change nothing'
            cand --force 'Replace an apiKeyHelper that runs something else'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;setup;codex'= {
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand --dry-run 'Print the resulting config.toml to stdout and change nothing'
            cand --force 'Switch a model_provider that selects something else'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;setup;help'= {
            cand anthropic 'Configure Anthropic workload identity federation for the profile'
            cand openai 'Configure OpenAI workload identity federation for the profile'
            cand issuer 'Configure the OpenID Connect provider `keyless login` signs in to'
            cand claude-code 'Wire Claude Code''s apiKeyHelper to `keyless credential anthropic`'
            cand codex 'Make Codex get its OpenAI token from `keyless credential openai`'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'keyless;setup;help;anthropic'= {
        }
        &'keyless;setup;help;openai'= {
        }
        &'keyless;setup;help;issuer'= {
        }
        &'keyless;setup;help;claude-code'= {
        }
        &'keyless;setup;help;codex'= {
        }
        &'keyless;setup;help;help'= {
        }
        &'keyless;login'= {
            cand --timeout 'Give up after this many seconds (1 to 3600)'
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand --browser 'Sign in through the browser (authorization code with PKCE)'
            cand --device 'Sign in with a device code (RFC 8628), for machines without a browser'
            cand --no-browser 'Print the URL instead of opening a browser'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;logout'= {
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand --all 'Sign out of every profile'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;credential'= {
            cand --format 'Output format'
            cand --helper-ttl 'How often the calling tool re-runs this command on its own, in seconds (`setup claude-code` and `setup codex` write it): the same token asked for again well inside that means the tool was refused it, so keyless exchanges a new one, once per token'
            cand --min-ttl 'Serve a cached token only while more than min(SECS, half its lifetime) remains (at most 86400)'
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand --rejected 'The token this command printed was rejected (HTTP 401): drop it and print a newly exchanged one, or fail'
            cand --force-refresh 'Exchange a new token even if the cache holds a fresh one'
            cand --no-login 'Never start an interactive sign-in; exit 3 when one is needed'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;env'= {
            cand --type 'Provider to serve (repeatable) [default: every configured provider]'
            cand --shell 'Output syntax [default: from $SHELL, else powershell on Windows and bash elsewhere]; `github` appends to $GITHUB_ENV for a job''s later steps'
            cand --min-ttl 'Serve a cached token only while more than min(SECS, half its lifetime) remains (at most 86400)'
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand --keep-api-key 'Leave ANTHROPIC_API_KEY alone (it outranks the token in every SDK)'
            cand --force-refresh 'Exchange a new token even if the cache holds a fresh one'
            cand --no-login 'Never start an interactive sign-in; exit 3 when one is needed'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;exec'= {
            cand --type 'Provider to serve (repeatable) [default: every configured provider]'
            cand --min-ttl 'Serve a cached token only while more than min(SECS, half its lifetime) remains (at most 86400)'
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand --keep-api-key 'Leave ANTHROPIC_API_KEY alone (it outranks the token in every SDK)'
            cand --refresh 'Stay as the parent and keep a long-running child signed in (Anthropic only: OpenAI''s SDKs read only OPENAI_API_KEY, which cannot be refreshed inside a running process)'
            cand --proxy 'Stay as the parent and serve the child''s API calls through a local proxy that adds a renewed token: the child gets only a per-run key and a 127.0.0.1 base URL (any SDK or tool; Anthropic and OpenAI)'
            cand --force-refresh 'Exchange a new token even if the cache holds a fresh one'
            cand --no-login 'Never start an interactive sign-in; exit 3 when one is needed'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;agent'= {
            cand --sink 'Where to keep the token (repeatable; see below)'
            cand --sink-mode 'Mode of file and template sinks, octal [default: 0600] (Unix)'
            cand --sink-group 'Group of file and template sinks (a name or a number), for a reader in another container (Unix)'
            cand --ready-file 'Create this file once every sink holds a valid token (remove it when none does)'
            cand --capability-file 'The proxy sinks'' key, kept in this file (created if missing, reused across restarts)'
            cand --log-format 'Log lines for people or for log collectors'
            cand --min-ttl 'Serve a cached token only while more than min(SECS, half its lifetime) remains (at most 86400)'
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand --rejected 'Tell the agent running with these sinks that the API refused its token'
            cand --reload 'Tell the agent running with these sinks to re-read its configuration and templates'
            cand --force-refresh 'Exchange a new token even if the cache holds a fresh one'
            cand --no-login 'Never start an interactive sign-in; exit 3 when one is needed'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;sandbox'= {
            cand --port 'Port on 127.0.0.1 (0 picks a free one)'
            cand --rules 'JSON file of trusted issuers and federation rules (see the README)'
            cand --token-lifetime 'Lifetime of tokens minted by the default rule, in seconds (1 to 86400)'
            cand --print-env 'Print, on stdout and only, the shell assignments (`export NAME=…`) that point a job at this platform''s stand-in, with the federation variables of its default rule; the banner goes to stderr'
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand identity-token 'Print a fresh identity JWT from a running sandbox (an identity source for tests and demos)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'keyless;sandbox;identity-token'= {
            cand --issuer 'The sandbox''s URL, as it printed it'
            cand --subject 'The token''s subject'
            cand --audience 'The token''s audience (repeatable: several make `aud` a list)'
            cand --lifetime 'The token''s lifetime in seconds (1 to 86400)'
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;sandbox;help'= {
            cand identity-token 'Print a fresh identity JWT from a running sandbox (an identity source for tests and demos)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'keyless;sandbox;help;identity-token'= {
        }
        &'keyless;sandbox;help;help'= {
        }
        &'keyless;demo'= {
            cand --ci 'Narrate a zero-setup CI run on this platform instead: only the federation variables and the platform''s own set, then `keyless exec -- <a Messages call>`'
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand --messages-call '(internal) the Messages call `demo --ci` runs under `keyless exec`'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;auth'= {
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand status 'Report the credential precedence, static keys and keyless''s state'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'keyless;auth;status'= {
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand --check 'Also exchange a fresh token and call GET /v1/models with it'
            cand --json 'Print the report as JSON (schema: share/keyless/auth-status.schema.json under the install prefix; docs/ in the source)'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;auth;help'= {
            cand status 'Report the credential precedence, static keys and keyless''s state'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'keyless;auth;help;status'= {
        }
        &'keyless;auth;help;help'= {
        }
        &'keyless;profile'= {
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'Every profile: providers, identity source, sign-in and cached tokens'
            cand ls 'Every profile: providers, identity source, sign-in and cached tokens'
            cand show 'What a profile holds (the chosen one without NAME), and where each value came from'
            cand use 'Make NAME the active profile: used when no flag, variable or per-directory file chooses'
            cand rm 'Log out of NAME and remove its configuration, cached tokens and served records'
            cand remove 'Log out of NAME and remove its configuration, cached tokens and served records'
            cand rename 'Rename a profile (its cached tokens are keyed by name: the next call exchanges)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'keyless;profile;list'= {
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand --json 'Print JSON: an array of profiles'
            cand --names 'Print only the names, one a line (for shell completion)'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;profile;ls'= {
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand --json 'Print JSON: an array of profiles'
            cand --names 'Print only the names, one a line (for shell completion)'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;profile;show'= {
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand --json 'Print JSON'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;profile;use'= {
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;profile;rm'= {
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand -y 'Do not ask (required when stdin or stderr is not a terminal)'
            cand --yes 'Do not ask (required when stdin or stderr is not a terminal)'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;profile;remove'= {
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand -y 'Do not ask (required when stdin or stderr is not a terminal)'
            cand --yes 'Do not ask (required when stdin or stderr is not a terminal)'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;profile;rename'= {
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;profile;help'= {
            cand list 'Every profile: providers, identity source, sign-in and cached tokens'
            cand show 'What a profile holds (the chosen one without NAME), and where each value came from'
            cand use 'Make NAME the active profile: used when no flag, variable or per-directory file chooses'
            cand rm 'Log out of NAME and remove its configuration, cached tokens and served records'
            cand rename 'Rename a profile (its cached tokens are keyed by name: the next call exchanges)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'keyless;profile;help;list'= {
        }
        &'keyless;profile;help;show'= {
        }
        &'keyless;profile;help;use'= {
        }
        &'keyless;profile;help;rm'= {
        }
        &'keyless;profile;help;rename'= {
        }
        &'keyless;profile;help;help'= {
        }
        &'keyless;completions'= {
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;version'= {
            cand --config-dir 'Directory holding config.json [default: ~/.config/keyless on Linux]'
            cand --cache-dir 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]'
            cand --profile 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]'
            cand --json 'Print the build information as one JSON object'
            cand -v 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand --verbose 'More detail on stderr (-v steps, -vv debug); never secrets'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'keyless;help'= {
            cand setup 'Record federation identifiers and the identity source in the config'
            cand login 'Sign in to the profile''s OpenID Connect provider (browser or device code)'
            cand logout 'Revoke and forget the sign-in session and the cached tokens'
            cand credential 'Print a valid short-lived token (cached; exchanged only when needed)'
            cand env 'Print shell assignments that hand the token to programs: eval "$(keyless env)"'
            cand exec 'Run a program with the token in its environment (never in its argv)'
            cand agent 'Keep SDK profiles, token files, templates and a shared proxy fresh for programs keyless does not start'
            cand sandbox 'Serve a local stand-in identity provider and Anthropic and OpenAI token endpoints'
            cand demo 'Try keyless end to end against an in-process sandbox, with no account'
            cand auth 'Which credential wins here, where static keys live, and whether keyless can serve'
            cand profile 'List, show, activate, remove or rename profiles'
            cand completions 'Print a shell completion script'
            cand version 'Print the version, commit, target, build date and whether this is a release build'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'keyless;help;setup'= {
            cand anthropic 'Configure Anthropic workload identity federation for the profile'
            cand openai 'Configure OpenAI workload identity federation for the profile'
            cand issuer 'Configure the OpenID Connect provider `keyless login` signs in to'
            cand claude-code 'Wire Claude Code''s apiKeyHelper to `keyless credential anthropic`'
            cand codex 'Make Codex get its OpenAI token from `keyless credential openai`'
        }
        &'keyless;help;setup;anthropic'= {
        }
        &'keyless;help;setup;openai'= {
        }
        &'keyless;help;setup;issuer'= {
        }
        &'keyless;help;setup;claude-code'= {
        }
        &'keyless;help;setup;codex'= {
        }
        &'keyless;help;login'= {
        }
        &'keyless;help;logout'= {
        }
        &'keyless;help;credential'= {
        }
        &'keyless;help;env'= {
        }
        &'keyless;help;exec'= {
        }
        &'keyless;help;agent'= {
        }
        &'keyless;help;sandbox'= {
            cand identity-token 'Print a fresh identity JWT from a running sandbox (an identity source for tests and demos)'
        }
        &'keyless;help;sandbox;identity-token'= {
        }
        &'keyless;help;demo'= {
        }
        &'keyless;help;auth'= {
            cand status 'Report the credential precedence, static keys and keyless''s state'
        }
        &'keyless;help;auth;status'= {
        }
        &'keyless;help;profile'= {
            cand list 'Every profile: providers, identity source, sign-in and cached tokens'
            cand show 'What a profile holds (the chosen one without NAME), and where each value came from'
            cand use 'Make NAME the active profile: used when no flag, variable or per-directory file chooses'
            cand rm 'Log out of NAME and remove its configuration, cached tokens and served records'
            cand rename 'Rename a profile (its cached tokens are keyed by name: the next call exchanges)'
        }
        &'keyless;help;profile;list'= {
        }
        &'keyless;help;profile;show'= {
        }
        &'keyless;help;profile;use'= {
        }
        &'keyless;help;profile;rm'= {
        }
        &'keyless;help;profile;rename'= {
        }
        &'keyless;help;completions'= {
        }
        &'keyless;help;version'= {
        }
        &'keyless;help;help'= {
        }
    ]
    $completions[$command]
}
