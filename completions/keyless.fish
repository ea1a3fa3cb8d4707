# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_keyless_global_optspecs
    string join \n config-dir= cache-dir= profile= v/verbose q/quiet h/help V/version
end

function __fish_keyless_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_keyless_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_keyless_using_subcommand
    set -l cmd (__fish_keyless_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c keyless -n "__fish_keyless_needs_command" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_needs_command" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_needs_command" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_needs_command" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_needs_command" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c keyless -n "__fish_keyless_needs_command" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_needs_command" -f -a "setup" -d 'Record federation identifiers and the identity source in the config'
complete -c keyless -n "__fish_keyless_needs_command" -f -a "login" -d 'Sign in to the profile\'s OpenID Connect provider (browser or device code)'
complete -c keyless -n "__fish_keyless_needs_command" -f -a "logout" -d 'Revoke and forget the sign-in session and the cached tokens'
complete -c keyless -n "__fish_keyless_needs_command" -f -a "credential" -d 'Print a valid short-lived token (cached; exchanged only when needed)'
complete -c keyless -n "__fish_keyless_needs_command" -f -a "env" -d 'Print shell assignments that hand the token to programs: eval "$(keyless env)"'
complete -c keyless -n "__fish_keyless_needs_command" -f -a "exec" -d 'Run a program with the token in its environment (never in its argv)'
complete -c keyless -n "__fish_keyless_needs_command" -f -a "agent" -d 'Keep SDK profiles, token files, templates and a shared proxy fresh for programs keyless does not start'
complete -c keyless -n "__fish_keyless_needs_command" -f -a "sandbox" -d 'Serve a local stand-in identity provider and Anthropic and OpenAI token endpoints'
complete -c keyless -n "__fish_keyless_needs_command" -f -a "demo" -d 'Try keyless end to end against an in-process sandbox, with no account'
complete -c keyless -n "__fish_keyless_needs_command" -f -a "auth" -d 'Which credential wins here, where static keys live, and whether keyless can serve'
complete -c keyless -n "__fish_keyless_needs_command" -f -a "profile" -d 'List, show, activate, remove or rename profiles'
complete -c keyless -n "__fish_keyless_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c keyless -n "__fish_keyless_needs_command" -f -a "version" -d 'Print the version, commit, target, build date and whether this is a release build'
complete -c keyless -n "__fish_keyless_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and not __fish_seen_subcommand_from anthropic openai issuer claude-code codex help" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand setup; and not __fish_seen_subcommand_from anthropic openai issuer claude-code codex help" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand setup; and not __fish_seen_subcommand_from anthropic openai issuer claude-code codex help" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand setup; and not __fish_seen_subcommand_from anthropic openai issuer claude-code codex help" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and not __fish_seen_subcommand_from anthropic openai issuer claude-code codex help" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and not __fish_seen_subcommand_from anthropic openai issuer claude-code codex help" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and not __fish_seen_subcommand_from anthropic openai issuer claude-code codex help" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and not __fish_seen_subcommand_from anthropic openai issuer claude-code codex help" -f -a "anthropic" -d 'Configure Anthropic workload identity federation for the profile'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and not __fish_seen_subcommand_from anthropic openai issuer claude-code codex help" -f -a "openai" -d 'Configure OpenAI workload identity federation for the profile'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and not __fish_seen_subcommand_from anthropic openai issuer claude-code codex help" -f -a "issuer" -d 'Configure the OpenID Connect provider `keyless login` signs in to'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and not __fish_seen_subcommand_from anthropic openai issuer claude-code codex help" -f -a "claude-code" -d 'Wire Claude Code\'s apiKeyHelper to `keyless credential anthropic`'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and not __fish_seen_subcommand_from anthropic openai issuer claude-code codex help" -f -a "codex" -d 'Make Codex get its OpenAI token from `keyless credential openai`'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and not __fish_seen_subcommand_from anthropic openai issuer claude-code codex help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from anthropic" -l federation-rule-id -l rule-id -d 'Federation rule ID (fdrl_…); required the first time' -r
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from anthropic" -l organization-id -l org -d 'Organization ID (a UUID, under Console > Settings > Organization); required the first time' -r
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from anthropic" -l service-account-id -d 'Service account ID (svac_…)' -r
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from anthropic" -l workspace-id -d 'Workspace ID (wrkspc_…, or `default`); needed when the rule covers several workspaces' -r
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from anthropic" -l base-url -d 'API base URL; https, or http on 127.0.0.1, localhost or [::1]' -r
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from anthropic" -l audience -d 'The audience to ask identity sources for (github-actions, gcp, buildkite, aws; azure needs it: api://<app-id>) [default: https://api.anthropic.com]; the federation rule must match it' -r
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from anthropic" -l identity -d 'Where the identity JWT comes from: file:PATH, env, env:NAME, command:PROGRAM ARGS…, github-actions, gcp, azure, buildkite, azure-pipelines[:SERVICE_CONNECTION_ID], aws, auto, login, or client-credentials (the last two need `keyless setup issuer`)' -r -f -a "file:\t''
env\t''
env:\t''
command:\t''
login\t''
client-credentials\t''
auto\t''
github-actions\t''
gcp\t''
azure\t''
aws\t''
buildkite\t''
azure-pipelines\t''"
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from anthropic" -l ca-file -d 'PEM file of extra CA certificates for a base URL behind a private CA' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from anthropic" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from anthropic" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from anthropic" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from anthropic" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from anthropic" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from anthropic" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from anthropic" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from openai" -l identity-provider-id -d 'Workload identity provider ID (wip_…); required the first time' -r
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from openai" -l service-account-id -d 'Service account ID the provider\'s mapping binds the identity to (not checked locally); required the first time' -r
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from openai" -l token-endpoint -d 'Token endpoint [default: https://auth.openai.com/oauth/token]; https, or http on loopback' -r
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from openai" -l identity -d 'Where the identity JWT comes from: file:PATH, env, env:NAME, command:PROGRAM ARGS…, github-actions, gcp, azure, buildkite, azure-pipelines[:SERVICE_CONNECTION_ID], aws, auto, login, or client-credentials (the last two need `keyless setup issuer`)' -r -f -a "file:\t''
env\t''
env:\t''
command:\t''
login\t''
client-credentials\t''
auto\t''
github-actions\t''
gcp\t''
azure\t''
aws\t''
buildkite\t''
azure-pipelines\t''"
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from openai" -l audience -d 'The audience configured on the identity provider (not sent: OpenAI compares it with the JWT\'s aud; keyless warns before spending a JWT for another audience, and the client-credentials source asks for it)' -r
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from openai" -l ca-file -d 'PEM file of extra CA certificates for a token endpoint behind a private CA' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from openai" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from openai" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from openai" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from openai" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from openai" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from openai" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from openai" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -l issuer -d 'Issuer URL, exactly as the provider publishes it (https, or http on loopback)' -r
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -l client-id -d 'OAuth client id registered for keyless' -r
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -l scope -d 'Scope to request (repeatable) [default: openid email profile offline_access]' -r
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -l flow -d 'How `keyless login` signs in' -r -f -a "auto\t'Device code when no browser can be opened, else the browser'
browser\t''
device\t''"
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -l assertion -d 'Which token is exchanged for the API token' -r -f -a "id-token\t'Exchange the OIDC ID token'
access-token\t'Exchange a JWT access token (Okta custom authorization servers, Keycard)'"
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -l audience -d 'Resource/audience for JWT access tokens (RFC 8707) [default: https://api.anthropic.com; for OpenAI client credentials, `setup openai --audience` wins]' -r
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -l redirect-port -d 'Fixed loopback port for providers that register one redirect URI' -r
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -l redirect-host -d 'Host in the redirect URI: 127.0.0.1, or localhost for providers that need it' -r -f -a "127.0.0.1\t''
localhost\t''"
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -l ca-file -d 'PEM file of extra CA certificates for a provider behind a private CA' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -l client-secret-stdin -d 'Read a confidential client\'s secret from stdin'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -l no-verify -d 'Save without fetching discovery (offline setup); checked at login instead'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from issuer" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from claude-code" -l scope -d 'Which settings file to merge into' -r -f -a "user\t'~/.claude/settings.json'
project\t'.claude/settings.json in the current directory'"
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from claude-code" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from claude-code" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from claude-code" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from claude-code" -l dry-run -d 'Print the resulting settings file to stdout and change nothing'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from claude-code" -l force -d 'Replace an apiKeyHelper that runs something else'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from claude-code" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from claude-code" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from claude-code" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from claude-code" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from codex" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from codex" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from codex" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from codex" -l dry-run -d 'Print the resulting config.toml to stdout and change nothing'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from codex" -l force -d 'Switch a model_provider that selects something else'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from codex" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from codex" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from codex" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from codex" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "anthropic" -d 'Configure Anthropic workload identity federation for the profile'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "openai" -d 'Configure OpenAI workload identity federation for the profile'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "issuer" -d 'Configure the OpenID Connect provider `keyless login` signs in to'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "claude-code" -d 'Wire Claude Code\'s apiKeyHelper to `keyless credential anthropic`'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "codex" -d 'Make Codex get its OpenAI token from `keyless credential openai`'
complete -c keyless -n "__fish_keyless_using_subcommand setup; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c keyless -n "__fish_keyless_using_subcommand login" -l timeout -d 'Give up after this many seconds (1 to 3600)' -r
complete -c keyless -n "__fish_keyless_using_subcommand login" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand login" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand login" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand login" -l browser -d 'Sign in through the browser (authorization code with PKCE)'
complete -c keyless -n "__fish_keyless_using_subcommand login" -l device -d 'Sign in with a device code (RFC 8628), for machines without a browser'
complete -c keyless -n "__fish_keyless_using_subcommand login" -l no-browser -d 'Print the URL instead of opening a browser'
complete -c keyless -n "__fish_keyless_using_subcommand login" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand login" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand login" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand login" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand logout" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand logout" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand logout" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand logout" -l all -d 'Sign out of every profile'
complete -c keyless -n "__fish_keyless_using_subcommand logout" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand logout" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand logout" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand logout" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand credential" -l format -d 'Output format' -r -f -a "token\t'The bare token (a trailing newline only on a terminal)'
json\t'{"access_token","token_type","expires_at","expiration"}'"
complete -c keyless -n "__fish_keyless_using_subcommand credential" -l helper-ttl -d 'How often the calling tool re-runs this command on its own, in seconds (`setup claude-code` and `setup codex` write it): the same token asked for again well inside that means the tool was refused it, so keyless exchanges a new one, once per token' -r
complete -c keyless -n "__fish_keyless_using_subcommand credential" -l min-ttl -d 'Serve a cached token only while more than min(SECS, half its lifetime) remains (at most 86400)' -r
complete -c keyless -n "__fish_keyless_using_subcommand credential" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand credential" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand credential" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand credential" -l rejected -d 'The token this command printed was rejected (HTTP 401): drop it and print a newly exchanged one, or fail'
complete -c keyless -n "__fish_keyless_using_subcommand credential" -l force-refresh -d 'Exchange a new token even if the cache holds a fresh one'
complete -c keyless -n "__fish_keyless_using_subcommand credential" -l no-login -d 'Never start an interactive sign-in; exit 3 when one is needed'
complete -c keyless -n "__fish_keyless_using_subcommand credential" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand credential" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand credential" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c keyless -n "__fish_keyless_using_subcommand credential" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand env" -l type -d 'Provider to serve (repeatable) [default: every configured provider]' -r -f -a "anthropic\t'Anthropic (Claude API)'
openai\t'OpenAI (OpenAI API)'"
complete -c keyless -n "__fish_keyless_using_subcommand env" -l shell -d 'Output syntax [default: from $SHELL, else powershell on Windows and bash elsewhere]; `github` appends to $GITHUB_ENV for a job\'s later steps' -r -f -a "bash\t''
zsh\t''
fish\t''
powershell\t''
cmd\t'Windows\' cmd.exe: `set "NAME=value"`'
dotenv\t''
json\t''
github\t'Appended to `$GITHUB_ENV`, for a GitHub Actions job\'s later steps'"
complete -c keyless -n "__fish_keyless_using_subcommand env" -l min-ttl -d 'Serve a cached token only while more than min(SECS, half its lifetime) remains (at most 86400)' -r
complete -c keyless -n "__fish_keyless_using_subcommand env" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand env" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand env" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand env" -l keep-api-key -d 'Leave ANTHROPIC_API_KEY alone (it outranks the token in every SDK)'
complete -c keyless -n "__fish_keyless_using_subcommand env" -l force-refresh -d 'Exchange a new token even if the cache holds a fresh one'
complete -c keyless -n "__fish_keyless_using_subcommand env" -l no-login -d 'Never start an interactive sign-in; exit 3 when one is needed'
complete -c keyless -n "__fish_keyless_using_subcommand env" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand env" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand env" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c keyless -n "__fish_keyless_using_subcommand env" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand exec" -l type -d 'Provider to serve (repeatable) [default: every configured provider]' -r -f -a "anthropic\t'Anthropic (Claude API)'
openai\t'OpenAI (OpenAI API)'"
complete -c keyless -n "__fish_keyless_using_subcommand exec" -l min-ttl -d 'Serve a cached token only while more than min(SECS, half its lifetime) remains (at most 86400)' -r
complete -c keyless -n "__fish_keyless_using_subcommand exec" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand exec" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand exec" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand exec" -l keep-api-key -d 'Leave ANTHROPIC_API_KEY alone (it outranks the token in every SDK)'
complete -c keyless -n "__fish_keyless_using_subcommand exec" -l refresh -d 'Stay as the parent and keep a long-running child signed in (Anthropic only: OpenAI\'s SDKs read only OPENAI_API_KEY, which cannot be refreshed inside a running process)'
complete -c keyless -n "__fish_keyless_using_subcommand exec" -l proxy -d 'Stay as the parent and serve the child\'s API calls through a local proxy that adds a renewed token: the child gets only a per-run key and a 127.0.0.1 base URL (any SDK or tool; Anthropic and OpenAI)'
complete -c keyless -n "__fish_keyless_using_subcommand exec" -l force-refresh -d 'Exchange a new token even if the cache holds a fresh one'
complete -c keyless -n "__fish_keyless_using_subcommand exec" -l no-login -d 'Never start an interactive sign-in; exit 3 when one is needed'
complete -c keyless -n "__fish_keyless_using_subcommand exec" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand exec" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand exec" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c keyless -n "__fish_keyless_using_subcommand exec" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand agent" -l sink -d 'Where to keep the token (repeatable; see below)' -r
complete -c keyless -n "__fish_keyless_using_subcommand agent" -l sink-mode -d 'Mode of file and template sinks, octal [default: 0600] (Unix)' -r
complete -c keyless -n "__fish_keyless_using_subcommand agent" -l sink-group -d 'Group of file and template sinks (a name or a number), for a reader in another container (Unix)' -r
complete -c keyless -n "__fish_keyless_using_subcommand agent" -l ready-file -d 'Create this file once every sink holds a valid token (remove it when none does)' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand agent" -l capability-file -d 'The proxy sinks\' key, kept in this file (created if missing, reused across restarts)' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand agent" -l log-format -d 'Log lines for people or for log collectors' -r -f -a "human\t'Lines for people'
json\t'One JSON object a line, for log collectors'"
complete -c keyless -n "__fish_keyless_using_subcommand agent" -l min-ttl -d 'Serve a cached token only while more than min(SECS, half its lifetime) remains (at most 86400)' -r
complete -c keyless -n "__fish_keyless_using_subcommand agent" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand agent" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand agent" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand agent" -l rejected -d 'Tell the agent running with these sinks that the API refused its token'
complete -c keyless -n "__fish_keyless_using_subcommand agent" -l reload -d 'Tell the agent running with these sinks to re-read its configuration and templates'
complete -c keyless -n "__fish_keyless_using_subcommand agent" -l force-refresh -d 'Exchange a new token even if the cache holds a fresh one'
complete -c keyless -n "__fish_keyless_using_subcommand agent" -l no-login -d 'Never start an interactive sign-in; exit 3 when one is needed'
complete -c keyless -n "__fish_keyless_using_subcommand agent" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand agent" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand agent" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c keyless -n "__fish_keyless_using_subcommand agent" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and not __fish_seen_subcommand_from identity-token help" -l port -d 'Port on 127.0.0.1 (0 picks a free one)' -r
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and not __fish_seen_subcommand_from identity-token help" -l rules -d 'JSON file of trusted issuers and federation rules (see the README)' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and not __fish_seen_subcommand_from identity-token help" -l token-lifetime -d 'Lifetime of tokens minted by the default rule, in seconds (1 to 86400)' -r
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and not __fish_seen_subcommand_from identity-token help" -l print-env -d 'Print, on stdout and only, the shell assignments (`export NAME=…`) that point a job at this platform\'s stand-in, with the federation variables of its default rule; the banner goes to stderr' -r -f -a "github-actions\t''
github-actions-immutable\t'GitHub Actions in a repository created after 2026-07-15'
gcp\t''
azure\t''
azure-app-service\t''
buildkite\t''
azure-pipelines\t''
aws\t''
gitlab\t'GitLab CI: the job\'s `id_tokens:` variable'
kubernetes\t'A Kubernetes pod\'s projected service-account token file'"
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and not __fish_seen_subcommand_from identity-token help" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and not __fish_seen_subcommand_from identity-token help" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and not __fish_seen_subcommand_from identity-token help" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and not __fish_seen_subcommand_from identity-token help" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and not __fish_seen_subcommand_from identity-token help" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and not __fish_seen_subcommand_from identity-token help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and not __fish_seen_subcommand_from identity-token help" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and not __fish_seen_subcommand_from identity-token help" -f -a "identity-token" -d 'Print a fresh identity JWT from a running sandbox (an identity source for tests and demos)'
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and not __fish_seen_subcommand_from identity-token help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and __fish_seen_subcommand_from identity-token" -l issuer -d 'The sandbox\'s URL, as it printed it' -r
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and __fish_seen_subcommand_from identity-token" -l subject -d 'The token\'s subject' -r
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and __fish_seen_subcommand_from identity-token" -l audience -d 'The token\'s audience (repeatable: several make `aud` a list)' -r
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and __fish_seen_subcommand_from identity-token" -l lifetime -d 'The token\'s lifetime in seconds (1 to 86400)' -r
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and __fish_seen_subcommand_from identity-token" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and __fish_seen_subcommand_from identity-token" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and __fish_seen_subcommand_from identity-token" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and __fish_seen_subcommand_from identity-token" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and __fish_seen_subcommand_from identity-token" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and __fish_seen_subcommand_from identity-token" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and __fish_seen_subcommand_from identity-token" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and __fish_seen_subcommand_from help" -f -a "identity-token" -d 'Print a fresh identity JWT from a running sandbox (an identity source for tests and demos)'
complete -c keyless -n "__fish_keyless_using_subcommand sandbox; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c keyless -n "__fish_keyless_using_subcommand demo" -l ci -d 'Narrate a zero-setup CI run on this platform instead: only the federation variables and the platform\'s own set, then `keyless exec -- <a Messages call>`' -r -f -a "github-actions\t''
github-actions-immutable\t'GitHub Actions in a repository created after 2026-07-15'
gcp\t''
azure\t''
azure-app-service\t''
buildkite\t''
azure-pipelines\t''
aws\t''
gitlab\t'GitLab CI: the job\'s `id_tokens:` variable'
kubernetes\t'A Kubernetes pod\'s projected service-account token file'"
complete -c keyless -n "__fish_keyless_using_subcommand demo" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand demo" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand demo" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand demo" -l messages-call -d '(internal) the Messages call `demo --ci` runs under `keyless exec`'
complete -c keyless -n "__fish_keyless_using_subcommand demo" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand demo" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c keyless -n "__fish_keyless_using_subcommand demo" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand auth; and not __fish_seen_subcommand_from status help" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand auth; and not __fish_seen_subcommand_from status help" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand auth; and not __fish_seen_subcommand_from status help" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand auth; and not __fish_seen_subcommand_from status help" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand auth; and not __fish_seen_subcommand_from status help" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand auth; and not __fish_seen_subcommand_from status help" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand auth; and not __fish_seen_subcommand_from status help" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand auth; and not __fish_seen_subcommand_from status help" -f -a "status" -d 'Report the credential precedence, static keys and keyless\'s state'
complete -c keyless -n "__fish_keyless_using_subcommand auth; and not __fish_seen_subcommand_from status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c keyless -n "__fish_keyless_using_subcommand auth; and __fish_seen_subcommand_from status" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand auth; and __fish_seen_subcommand_from status" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand auth; and __fish_seen_subcommand_from status" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand auth; and __fish_seen_subcommand_from status" -l check -d 'Also exchange a fresh token and call GET /v1/models with it'
complete -c keyless -n "__fish_keyless_using_subcommand auth; and __fish_seen_subcommand_from status" -l json -d 'Print the report as JSON (schema: share/keyless/auth-status.schema.json under the install prefix; docs/ in the source)'
complete -c keyless -n "__fish_keyless_using_subcommand auth; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand auth; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand auth; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand auth; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand auth; and __fish_seen_subcommand_from help" -f -a "status" -d 'Report the credential precedence, static keys and keyless\'s state'
complete -c keyless -n "__fish_keyless_using_subcommand auth; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and not __fish_seen_subcommand_from list ls show use rm remove rename help" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand profile; and not __fish_seen_subcommand_from list ls show use rm remove rename help" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand profile; and not __fish_seen_subcommand_from list ls show use rm remove rename help" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand profile; and not __fish_seen_subcommand_from list ls show use rm remove rename help" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and not __fish_seen_subcommand_from list ls show use rm remove rename help" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and not __fish_seen_subcommand_from list ls show use rm remove rename help" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and not __fish_seen_subcommand_from list ls show use rm remove rename help" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and not __fish_seen_subcommand_from list ls show use rm remove rename help" -f -a "list" -d 'Every profile: providers, identity source, sign-in and cached tokens'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and not __fish_seen_subcommand_from list ls show use rm remove rename help" -f -a "ls" -d 'Every profile: providers, identity source, sign-in and cached tokens'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and not __fish_seen_subcommand_from list ls show use rm remove rename help" -f -a "show" -d 'What a profile holds (the chosen one without NAME), and where each value came from'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and not __fish_seen_subcommand_from list ls show use rm remove rename help" -f -a "use" -d 'Make NAME the active profile: used when no flag, variable or per-directory file chooses'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and not __fish_seen_subcommand_from list ls show use rm remove rename help" -f -a "rm" -d 'Log out of NAME and remove its configuration, cached tokens and served records'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and not __fish_seen_subcommand_from list ls show use rm remove rename help" -f -a "remove" -d 'Log out of NAME and remove its configuration, cached tokens and served records'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and not __fish_seen_subcommand_from list ls show use rm remove rename help" -f -a "rename" -d 'Rename a profile (its cached tokens are keyed by name: the next call exchanges)'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and not __fish_seen_subcommand_from list ls show use rm remove rename help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from list" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from list" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from list" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from list" -l json -d 'Print JSON: an array of profiles'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from list" -l names -d 'Print only the names, one a line (for shell completion)'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from ls" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from ls" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from ls" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from ls" -l json -d 'Print JSON: an array of profiles'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from ls" -l names -d 'Print only the names, one a line (for shell completion)'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from ls" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from ls" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from show" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from show" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from show" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from show" -l json -d 'Print JSON'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from use" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from use" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from use" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from use" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from use" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from use" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from use" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rm" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rm" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rm" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rm" -s y -l yes -d 'Do not ask (required when stdin or stderr is not a terminal)'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rm" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rm" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from remove" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from remove" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from remove" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from remove" -s y -l yes -d 'Do not ask (required when stdin or stderr is not a terminal)'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rename" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rename" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rename" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rename" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rename" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rename" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rename" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "list" -d 'Every profile: providers, identity source, sign-in and cached tokens'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "show" -d 'What a profile holds (the chosen one without NAME), and where each value came from'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "use" -d 'Make NAME the active profile: used when no flag, variable or per-directory file chooses'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Log out of NAME and remove its configuration, cached tokens and served records'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "rename" -d 'Rename a profile (its cached tokens are keyed by name: the next call exchanges)'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c keyless -n "__fish_keyless_using_subcommand completions" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand completions" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand completions" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand completions" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand completions" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand completions" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand completions" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand version" -l config-dir -d 'Directory holding config.json [default: ~/.config/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand version" -l cache-dir -d 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]' -r -F
complete -c keyless -n "__fish_keyless_using_subcommand version" -l profile -d 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]' -r -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand version" -l json -d 'Print the build information as one JSON object'
complete -c keyless -n "__fish_keyless_using_subcommand version" -s v -l verbose -d 'More detail on stderr (-v steps, -vv debug); never secrets'
complete -c keyless -n "__fish_keyless_using_subcommand version" -s q -l quiet -d 'Only errors on stderr'
complete -c keyless -n "__fish_keyless_using_subcommand version" -s h -l help -d 'Print help'
complete -c keyless -n "__fish_keyless_using_subcommand version" -s V -l version -d 'Print version'
complete -c keyless -n "__fish_keyless_using_subcommand help; and not __fish_seen_subcommand_from setup login logout credential env exec agent sandbox demo auth profile completions version help" -f -a "setup" -d 'Record federation identifiers and the identity source in the config'
complete -c keyless -n "__fish_keyless_using_subcommand help; and not __fish_seen_subcommand_from setup login logout credential env exec agent sandbox demo auth profile completions version help" -f -a "login" -d 'Sign in to the profile\'s OpenID Connect provider (browser or device code)'
complete -c keyless -n "__fish_keyless_using_subcommand help; and not __fish_seen_subcommand_from setup login logout credential env exec agent sandbox demo auth profile completions version help" -f -a "logout" -d 'Revoke and forget the sign-in session and the cached tokens'
complete -c keyless -n "__fish_keyless_using_subcommand help; and not __fish_seen_subcommand_from setup login logout credential env exec agent sandbox demo auth profile completions version help" -f -a "credential" -d 'Print a valid short-lived token (cached; exchanged only when needed)'
complete -c keyless -n "__fish_keyless_using_subcommand help; and not __fish_seen_subcommand_from setup login logout credential env exec agent sandbox demo auth profile completions version help" -f -a "env" -d 'Print shell assignments that hand the token to programs: eval "$(keyless env)"'
complete -c keyless -n "__fish_keyless_using_subcommand help; and not __fish_seen_subcommand_from setup login logout credential env exec agent sandbox demo auth profile completions version help" -f -a "exec" -d 'Run a program with the token in its environment (never in its argv)'
complete -c keyless -n "__fish_keyless_using_subcommand help; and not __fish_seen_subcommand_from setup login logout credential env exec agent sandbox demo auth profile completions version help" -f -a "agent" -d 'Keep SDK profiles, token files, templates and a shared proxy fresh for programs keyless does not start'
complete -c keyless -n "__fish_keyless_using_subcommand help; and not __fish_seen_subcommand_from setup login logout credential env exec agent sandbox demo auth profile completions version help" -f -a "sandbox" -d 'Serve a local stand-in identity provider and Anthropic and OpenAI token endpoints'
complete -c keyless -n "__fish_keyless_using_subcommand help; and not __fish_seen_subcommand_from setup login logout credential env exec agent sandbox demo auth profile completions version help" -f -a "demo" -d 'Try keyless end to end against an in-process sandbox, with no account'
complete -c keyless -n "__fish_keyless_using_subcommand help; and not __fish_seen_subcommand_from setup login logout credential env exec agent sandbox demo auth profile completions version help" -f -a "auth" -d 'Which credential wins here, where static keys live, and whether keyless can serve'
complete -c keyless -n "__fish_keyless_using_subcommand help; and not __fish_seen_subcommand_from setup login logout credential env exec agent sandbox demo auth profile completions version help" -f -a "profile" -d 'List, show, activate, remove or rename profiles'
complete -c keyless -n "__fish_keyless_using_subcommand help; and not __fish_seen_subcommand_from setup login logout credential env exec agent sandbox demo auth profile completions version help" -f -a "completions" -d 'Print a shell completion script'
complete -c keyless -n "__fish_keyless_using_subcommand help; and not __fish_seen_subcommand_from setup login logout credential env exec agent sandbox demo auth profile completions version help" -f -a "version" -d 'Print the version, commit, target, build date and whether this is a release build'
complete -c keyless -n "__fish_keyless_using_subcommand help; and not __fish_seen_subcommand_from setup login logout credential env exec agent sandbox demo auth profile completions version help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c keyless -n "__fish_keyless_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "anthropic" -d 'Configure Anthropic workload identity federation for the profile'
complete -c keyless -n "__fish_keyless_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "openai" -d 'Configure OpenAI workload identity federation for the profile'
complete -c keyless -n "__fish_keyless_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "issuer" -d 'Configure the OpenID Connect provider `keyless login` signs in to'
complete -c keyless -n "__fish_keyless_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "claude-code" -d 'Wire Claude Code\'s apiKeyHelper to `keyless credential anthropic`'
complete -c keyless -n "__fish_keyless_using_subcommand help; and __fish_seen_subcommand_from setup" -f -a "codex" -d 'Make Codex get its OpenAI token from `keyless credential openai`'
complete -c keyless -n "__fish_keyless_using_subcommand help; and __fish_seen_subcommand_from sandbox" -f -a "identity-token" -d 'Print a fresh identity JWT from a running sandbox (an identity source for tests and demos)'
complete -c keyless -n "__fish_keyless_using_subcommand help; and __fish_seen_subcommand_from auth" -f -a "status" -d 'Report the credential precedence, static keys and keyless\'s state'
complete -c keyless -n "__fish_keyless_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "list" -d 'Every profile: providers, identity source, sign-in and cached tokens'
complete -c keyless -n "__fish_keyless_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "show" -d 'What a profile holds (the chosen one without NAME), and where each value came from'
complete -c keyless -n "__fish_keyless_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "use" -d 'Make NAME the active profile: used when no flag, variable or per-directory file chooses'
complete -c keyless -n "__fish_keyless_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "rm" -d 'Log out of NAME and remove its configuration, cached tokens and served records'
complete -c keyless -n "__fish_keyless_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "rename" -d 'Rename a profile (its cached tokens are keyed by name: the next call exchanges)'
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from use show rm remove" -f -a "(keyless profile list --names 2>/dev/null)"
# rename's OLD is a profile; its NEW is the user's to choose (no files)
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rename; and string match -q rename -- (commandline -opc)[-1]" -f -a "(keyless profile list --names 2>/dev/null)"
complete -c keyless -n "__fish_keyless_using_subcommand profile; and __fish_seen_subcommand_from rename" -f
# --profile before the subcommand, which the condition above it misses
complete -c keyless -n 'string match -q -- --profile (commandline -opc)[-1]' -f -a "(keyless profile list --names 2>/dev/null)"
