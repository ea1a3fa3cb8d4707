
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'keyless' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'keyless'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    # keyless: profile names for --profile and profile use/show/rm (and
    # rename's OLD), asked of keyless; the identity sources for --identity.
    $words = @($commandElements | ForEach-Object { $_.Extent.Text })
    if ($wordToComplete -ne '' -and $words.Count -gt 1) { $words = $words[0..($words.Count - 2)] }
    $prev = [string]$words[-1]
    # The subcommands typed so far, past options (and the global ones' values).
    $path = @()
    for ($i = 1; $i -lt $words.Count; $i++) {
        $w = [string]$words[$i]
        if ($w -in '--profile', '--config-dir', '--cache-dir') { $i++; continue }
        if ($w -notlike '-*') { $path += $w }
    }
    $sub = @($path | Select-Object -First 2) -join ';'
    $values = $null
    if ($prev -eq '--profile' -or
        ($sub -match '^profile;(use|show|rm|remove)$' -and $prev -notlike '-*' -and "$wordToComplete" -notlike '-*') -or
        ($sub -eq 'profile;rename' -and $prev -eq 'rename')) {
        $values = @(keyless profile list --names 2>$null)
    } elseif ($prev -eq '--identity') {
        $values = @('file:', 'env', 'env:', 'command:', 'login', 'client-credentials', 'auto', 'github-actions', 'gcp', 'azure', 'aws', 'buildkite', 'azure-pipelines')
    }
    if ($null -ne $values) {
        $values.Where{ $_ -like "$wordToComplete*" } | ForEach-Object {
            [CompletionResult]::new($_, $_, [CompletionResultType]::ParameterValue, $_)
        }
        return
    }

    $completions = @(switch ($command) {
        'keyless' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Record federation identifiers and the identity source in the config')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in to the profile''s OpenID Connect provider (browser or device code)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Revoke and forget the sign-in session and the cached tokens')
            [CompletionResult]::new('credential', 'credential', [CompletionResultType]::ParameterValue, 'Print a valid short-lived token (cached; exchanged only when needed)')
            [CompletionResult]::new('env', 'env', [CompletionResultType]::ParameterValue, 'Print shell assignments that hand the token to programs: eval "$(keyless env)"')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run a program with the token in its environment (never in its argv)')
            [CompletionResult]::new('agent', 'agent', [CompletionResultType]::ParameterValue, 'Keep SDK profiles, token files, templates and a shared proxy fresh for programs keyless does not start')
            [CompletionResult]::new('sandbox', 'sandbox', [CompletionResultType]::ParameterValue, 'Serve a local stand-in identity provider and Anthropic and OpenAI token endpoints')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Try keyless end to end against an in-process sandbox, with no account')
            [CompletionResult]::new('auth', 'auth', [CompletionResultType]::ParameterValue, 'Which credential wins here, where static keys live, and whether keyless can serve')
            [CompletionResult]::new('profile', 'profile', [CompletionResultType]::ParameterValue, 'List, show, activate, remove or rename profiles')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the version, commit, target, build date and whether this is a release build')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'keyless;setup' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('anthropic', 'anthropic', [CompletionResultType]::ParameterValue, 'Configure Anthropic workload identity federation for the profile')
            [CompletionResult]::new('openai', 'openai', [CompletionResultType]::ParameterValue, 'Configure OpenAI workload identity federation for the profile')
            [CompletionResult]::new('issuer', 'issuer', [CompletionResultType]::ParameterValue, 'Configure the OpenID Connect provider `keyless login` signs in to')
            [CompletionResult]::new('claude-code', 'claude-code', [CompletionResultType]::ParameterValue, 'Wire Claude Code''s apiKeyHelper to `keyless credential anthropic`')
            [CompletionResult]::new('codex', 'codex', [CompletionResultType]::ParameterValue, 'Make Codex get its OpenAI token from `keyless credential openai`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'keyless;setup;anthropic' {
            [CompletionResult]::new('--federation-rule-id', '--federation-rule-id', [CompletionResultType]::ParameterName, 'Federation rule ID (fdrl_…); required the first time')
            [CompletionResult]::new('--rule-id', '--rule-id', [CompletionResultType]::ParameterName, 'Federation rule ID (fdrl_…); required the first time')
            [CompletionResult]::new('--organization-id', '--organization-id', [CompletionResultType]::ParameterName, 'Organization ID (a UUID, under Console > Settings > Organization); required the first time')
            [CompletionResult]::new('--org', '--org', [CompletionResultType]::ParameterName, 'Organization ID (a UUID, under Console > Settings > Organization); required the first time')
            [CompletionResult]::new('--service-account-id', '--service-account-id', [CompletionResultType]::ParameterName, 'Service account ID (svac_…)')
            [CompletionResult]::new('--workspace-id', '--workspace-id', [CompletionResultType]::ParameterName, 'Workspace ID (wrkspc_…, or `default`); needed when the rule covers several workspaces')
            [CompletionResult]::new('--base-url', '--base-url', [CompletionResultType]::ParameterName, 'API base URL; https, or http on 127.0.0.1, localhost or [::1]')
            [CompletionResult]::new('--audience', '--audience', [CompletionResultType]::ParameterName, 'The audience to ask identity sources for (github-actions, gcp, buildkite, aws; azure needs it: api://<app-id>) [default: https://api.anthropic.com]; the federation rule must match it')
            [CompletionResult]::new('--identity', '--identity', [CompletionResultType]::ParameterName, 'Where the identity JWT comes from: file:PATH, env, env:NAME, command:PROGRAM ARGS…, github-actions, gcp, azure, buildkite, azure-pipelines[:SERVICE_CONNECTION_ID], aws, auto, login, or client-credentials (the last two need `keyless setup issuer`)')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'PEM file of extra CA certificates for a base URL behind a private CA')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;setup;openai' {
            [CompletionResult]::new('--identity-provider-id', '--identity-provider-id', [CompletionResultType]::ParameterName, 'Workload identity provider ID (wip_…); required the first time')
            [CompletionResult]::new('--service-account-id', '--service-account-id', [CompletionResultType]::ParameterName, 'Service account ID the provider''s mapping binds the identity to (not checked locally); required the first time')
            [CompletionResult]::new('--token-endpoint', '--token-endpoint', [CompletionResultType]::ParameterName, 'Token endpoint [default: https://auth.openai.com/oauth/token]; https, or http on loopback')
            [CompletionResult]::new('--identity', '--identity', [CompletionResultType]::ParameterName, 'Where the identity JWT comes from: file:PATH, env, env:NAME, command:PROGRAM ARGS…, github-actions, gcp, azure, buildkite, azure-pipelines[:SERVICE_CONNECTION_ID], aws, auto, login, or client-credentials (the last two need `keyless setup issuer`)')
            [CompletionResult]::new('--audience', '--audience', [CompletionResultType]::ParameterName, 'The audience configured on the identity provider (not sent: OpenAI compares it with the JWT''s aud; keyless warns before spending a JWT for another audience, and the client-credentials source asks for it)')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'PEM file of extra CA certificates for a token endpoint behind a private CA')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;setup;issuer' {
            [CompletionResult]::new('--issuer', '--issuer', [CompletionResultType]::ParameterName, 'Issuer URL, exactly as the provider publishes it (https, or http on loopback)')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'OAuth client id registered for keyless')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Scope to request (repeatable) [default: openid email profile offline_access]')
            [CompletionResult]::new('--flow', '--flow', [CompletionResultType]::ParameterName, 'How `keyless login` signs in')
            [CompletionResult]::new('--assertion', '--assertion', [CompletionResultType]::ParameterName, 'Which token is exchanged for the API token')
            [CompletionResult]::new('--audience', '--audience', [CompletionResultType]::ParameterName, 'Resource/audience for JWT access tokens (RFC 8707) [default: https://api.anthropic.com; for OpenAI client credentials, `setup openai --audience` wins]')
            [CompletionResult]::new('--redirect-port', '--redirect-port', [CompletionResultType]::ParameterName, 'Fixed loopback port for providers that register one redirect URI')
            [CompletionResult]::new('--redirect-host', '--redirect-host', [CompletionResultType]::ParameterName, 'Host in the redirect URI: 127.0.0.1, or localhost for providers that need it')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'PEM file of extra CA certificates for a provider behind a private CA')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('--client-secret-stdin', '--client-secret-stdin', [CompletionResultType]::ParameterName, 'Read a confidential client''s secret from stdin')
            [CompletionResult]::new('--no-verify', '--no-verify', [CompletionResultType]::ParameterName, 'Save without fetching discovery (offline setup); checked at login instead')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;setup;claude-code' {
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'Which settings file to merge into')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the resulting settings file to stdout and change nothing')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace an apiKeyHelper that runs something else')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;setup;codex' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the resulting config.toml to stdout and change nothing')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Switch a model_provider that selects something else')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;setup;help' {
            [CompletionResult]::new('anthropic', 'anthropic', [CompletionResultType]::ParameterValue, 'Configure Anthropic workload identity federation for the profile')
            [CompletionResult]::new('openai', 'openai', [CompletionResultType]::ParameterValue, 'Configure OpenAI workload identity federation for the profile')
            [CompletionResult]::new('issuer', 'issuer', [CompletionResultType]::ParameterValue, 'Configure the OpenID Connect provider `keyless login` signs in to')
            [CompletionResult]::new('claude-code', 'claude-code', [CompletionResultType]::ParameterValue, 'Wire Claude Code''s apiKeyHelper to `keyless credential anthropic`')
            [CompletionResult]::new('codex', 'codex', [CompletionResultType]::ParameterValue, 'Make Codex get its OpenAI token from `keyless credential openai`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'keyless;setup;help;anthropic' {
            break
        }
        'keyless;setup;help;openai' {
            break
        }
        'keyless;setup;help;issuer' {
            break
        }
        'keyless;setup;help;claude-code' {
            break
        }
        'keyless;setup;help;codex' {
            break
        }
        'keyless;setup;help;help' {
            break
        }
        'keyless;login' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this many seconds (1 to 3600)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('--browser', '--browser', [CompletionResultType]::ParameterName, 'Sign in through the browser (authorization code with PKCE)')
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'Sign in with a device code (RFC 8628), for machines without a browser')
            [CompletionResult]::new('--no-browser', '--no-browser', [CompletionResultType]::ParameterName, 'Print the URL instead of opening a browser')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;logout' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Sign out of every profile')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;credential' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--helper-ttl', '--helper-ttl', [CompletionResultType]::ParameterName, 'How often the calling tool re-runs this command on its own, in seconds (`setup claude-code` and `setup codex` write it): the same token asked for again well inside that means the tool was refused it, so keyless exchanges a new one, once per token')
            [CompletionResult]::new('--min-ttl', '--min-ttl', [CompletionResultType]::ParameterName, 'Serve a cached token only while more than min(SECS, half its lifetime) remains (at most 86400)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('--rejected', '--rejected', [CompletionResultType]::ParameterName, 'The token this command printed was rejected (HTTP 401): drop it and print a newly exchanged one, or fail')
            [CompletionResult]::new('--force-refresh', '--force-refresh', [CompletionResultType]::ParameterName, 'Exchange a new token even if the cache holds a fresh one')
            [CompletionResult]::new('--no-login', '--no-login', [CompletionResultType]::ParameterName, 'Never start an interactive sign-in; exit 3 when one is needed')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;env' {
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Provider to serve (repeatable) [default: every configured provider]')
            [CompletionResult]::new('--shell', '--shell', [CompletionResultType]::ParameterName, 'Output syntax [default: from $SHELL, else powershell on Windows and bash elsewhere]; `github` appends to $GITHUB_ENV for a job''s later steps')
            [CompletionResult]::new('--min-ttl', '--min-ttl', [CompletionResultType]::ParameterName, 'Serve a cached token only while more than min(SECS, half its lifetime) remains (at most 86400)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('--keep-api-key', '--keep-api-key', [CompletionResultType]::ParameterName, 'Leave ANTHROPIC_API_KEY alone (it outranks the token in every SDK)')
            [CompletionResult]::new('--force-refresh', '--force-refresh', [CompletionResultType]::ParameterName, 'Exchange a new token even if the cache holds a fresh one')
            [CompletionResult]::new('--no-login', '--no-login', [CompletionResultType]::ParameterName, 'Never start an interactive sign-in; exit 3 when one is needed')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;exec' {
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Provider to serve (repeatable) [default: every configured provider]')
            [CompletionResult]::new('--min-ttl', '--min-ttl', [CompletionResultType]::ParameterName, 'Serve a cached token only while more than min(SECS, half its lifetime) remains (at most 86400)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('--keep-api-key', '--keep-api-key', [CompletionResultType]::ParameterName, 'Leave ANTHROPIC_API_KEY alone (it outranks the token in every SDK)')
            [CompletionResult]::new('--refresh', '--refresh', [CompletionResultType]::ParameterName, 'Stay as the parent and keep a long-running child signed in (Anthropic only: OpenAI''s SDKs read only OPENAI_API_KEY, which cannot be refreshed inside a running process)')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Stay as the parent and serve the child''s API calls through a local proxy that adds a renewed token: the child gets only a per-run key and a 127.0.0.1 base URL (any SDK or tool; Anthropic and OpenAI)')
            [CompletionResult]::new('--force-refresh', '--force-refresh', [CompletionResultType]::ParameterName, 'Exchange a new token even if the cache holds a fresh one')
            [CompletionResult]::new('--no-login', '--no-login', [CompletionResultType]::ParameterName, 'Never start an interactive sign-in; exit 3 when one is needed')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;agent' {
            [CompletionResult]::new('--sink', '--sink', [CompletionResultType]::ParameterName, 'Where to keep the token (repeatable; see below)')
            [CompletionResult]::new('--sink-mode', '--sink-mode', [CompletionResultType]::ParameterName, 'Mode of file and template sinks, octal [default: 0600] (Unix)')
            [CompletionResult]::new('--sink-group', '--sink-group', [CompletionResultType]::ParameterName, 'Group of file and template sinks (a name or a number), for a reader in another container (Unix)')
            [CompletionResult]::new('--ready-file', '--ready-file', [CompletionResultType]::ParameterName, 'Create this file once every sink holds a valid token (remove it when none does)')
            [CompletionResult]::new('--capability-file', '--capability-file', [CompletionResultType]::ParameterName, 'The proxy sinks'' key, kept in this file (created if missing, reused across restarts)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines for people or for log collectors')
            [CompletionResult]::new('--min-ttl', '--min-ttl', [CompletionResultType]::ParameterName, 'Serve a cached token only while more than min(SECS, half its lifetime) remains (at most 86400)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('--rejected', '--rejected', [CompletionResultType]::ParameterName, 'Tell the agent running with these sinks that the API refused its token')
            [CompletionResult]::new('--reload', '--reload', [CompletionResultType]::ParameterName, 'Tell the agent running with these sinks to re-read its configuration and templates')
            [CompletionResult]::new('--force-refresh', '--force-refresh', [CompletionResultType]::ParameterName, 'Exchange a new token even if the cache holds a fresh one')
            [CompletionResult]::new('--no-login', '--no-login', [CompletionResultType]::ParameterName, 'Never start an interactive sign-in; exit 3 when one is needed')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;sandbox' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port on 127.0.0.1 (0 picks a free one)')
            [CompletionResult]::new('--rules', '--rules', [CompletionResultType]::ParameterName, 'JSON file of trusted issuers and federation rules (see the README)')
            [CompletionResult]::new('--token-lifetime', '--token-lifetime', [CompletionResultType]::ParameterName, 'Lifetime of tokens minted by the default rule, in seconds (1 to 86400)')
            [CompletionResult]::new('--print-env', '--print-env', [CompletionResultType]::ParameterName, 'Print, on stdout and only, the shell assignments (`export NAME=…`) that point a job at this platform''s stand-in, with the federation variables of its default rule; the banner goes to stderr')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('identity-token', 'identity-token', [CompletionResultType]::ParameterValue, 'Print a fresh identity JWT from a running sandbox (an identity source for tests and demos)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'keyless;sandbox;identity-token' {
            [CompletionResult]::new('--issuer', '--issuer', [CompletionResultType]::ParameterName, 'The sandbox''s URL, as it printed it')
            [CompletionResult]::new('--subject', '--subject', [CompletionResultType]::ParameterName, 'The token''s subject')
            [CompletionResult]::new('--audience', '--audience', [CompletionResultType]::ParameterName, 'The token''s audience (repeatable: several make `aud` a list)')
            [CompletionResult]::new('--lifetime', '--lifetime', [CompletionResultType]::ParameterName, 'The token''s lifetime in seconds (1 to 86400)')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;sandbox;help' {
            [CompletionResult]::new('identity-token', 'identity-token', [CompletionResultType]::ParameterValue, 'Print a fresh identity JWT from a running sandbox (an identity source for tests and demos)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'keyless;sandbox;help;identity-token' {
            break
        }
        'keyless;sandbox;help;help' {
            break
        }
        'keyless;demo' {
            [CompletionResult]::new('--ci', '--ci', [CompletionResultType]::ParameterName, 'Narrate a zero-setup CI run on this platform instead: only the federation variables and the platform''s own set, then `keyless exec -- <a Messages call>`')
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('--messages-call', '--messages-call', [CompletionResultType]::ParameterName, '(internal) the Messages call `demo --ci` runs under `keyless exec`')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;auth' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Report the credential precedence, static keys and keyless''s state')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'keyless;auth;status' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Also exchange a fresh token and call GET /v1/models with it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the report as JSON (schema: share/keyless/auth-status.schema.json under the install prefix; docs/ in the source)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;auth;help' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Report the credential precedence, static keys and keyless''s state')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'keyless;auth;help;status' {
            break
        }
        'keyless;auth;help;help' {
            break
        }
        'keyless;profile' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Every profile: providers, identity source, sign-in and cached tokens')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'Every profile: providers, identity source, sign-in and cached tokens')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'What a profile holds (the chosen one without NAME), and where each value came from')
            [CompletionResult]::new('use', 'use', [CompletionResultType]::ParameterValue, 'Make NAME the active profile: used when no flag, variable or per-directory file chooses')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Log out of NAME and remove its configuration, cached tokens and served records')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Log out of NAME and remove its configuration, cached tokens and served records')
            [CompletionResult]::new('rename', 'rename', [CompletionResultType]::ParameterValue, 'Rename a profile (its cached tokens are keyed by name: the next call exchanges)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'keyless;profile;list' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON: an array of profiles')
            [CompletionResult]::new('--names', '--names', [CompletionResultType]::ParameterName, 'Print only the names, one a line (for shell completion)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;profile;ls' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON: an array of profiles')
            [CompletionResult]::new('--names', '--names', [CompletionResultType]::ParameterName, 'Print only the names, one a line (for shell completion)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;profile;show' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;profile;use' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;profile;rm' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask (required when stdin or stderr is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask (required when stdin or stderr is not a terminal)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;profile;remove' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask (required when stdin or stderr is not a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask (required when stdin or stderr is not a terminal)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;profile;rename' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;profile;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Every profile: providers, identity source, sign-in and cached tokens')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'What a profile holds (the chosen one without NAME), and where each value came from')
            [CompletionResult]::new('use', 'use', [CompletionResultType]::ParameterValue, 'Make NAME the active profile: used when no flag, variable or per-directory file chooses')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Log out of NAME and remove its configuration, cached tokens and served records')
            [CompletionResult]::new('rename', 'rename', [CompletionResultType]::ParameterValue, 'Rename a profile (its cached tokens are keyed by name: the next call exchanges)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'keyless;profile;help;list' {
            break
        }
        'keyless;profile;help;show' {
            break
        }
        'keyless;profile;help;use' {
            break
        }
        'keyless;profile;help;rm' {
            break
        }
        'keyless;profile;help;rename' {
            break
        }
        'keyless;profile;help;help' {
            break
        }
        'keyless;completions' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;version' {
            [CompletionResult]::new('--config-dir', '--config-dir', [CompletionResultType]::ParameterName, 'Directory holding config.json [default: ~/.config/keyless on Linux]')
            [CompletionResult]::new('--cache-dir', '--cache-dir', [CompletionResultType]::ParameterName, 'Directory holding cached tokens [default: ~/.cache/keyless on Linux]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the build information as one JSON object')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v steps, -vv debug); never secrets')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'keyless;help' {
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Record federation identifiers and the identity source in the config')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in to the profile''s OpenID Connect provider (browser or device code)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Revoke and forget the sign-in session and the cached tokens')
            [CompletionResult]::new('credential', 'credential', [CompletionResultType]::ParameterValue, 'Print a valid short-lived token (cached; exchanged only when needed)')
            [CompletionResult]::new('env', 'env', [CompletionResultType]::ParameterValue, 'Print shell assignments that hand the token to programs: eval "$(keyless env)"')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run a program with the token in its environment (never in its argv)')
            [CompletionResult]::new('agent', 'agent', [CompletionResultType]::ParameterValue, 'Keep SDK profiles, token files, templates and a shared proxy fresh for programs keyless does not start')
            [CompletionResult]::new('sandbox', 'sandbox', [CompletionResultType]::ParameterValue, 'Serve a local stand-in identity provider and Anthropic and OpenAI token endpoints')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Try keyless end to end against an in-process sandbox, with no account')
            [CompletionResult]::new('auth', 'auth', [CompletionResultType]::ParameterValue, 'Which credential wins here, where static keys live, and whether keyless can serve')
            [CompletionResult]::new('profile', 'profile', [CompletionResultType]::ParameterValue, 'List, show, activate, remove or rename profiles')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Print the version, commit, target, build date and whether this is a release build')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'keyless;help;setup' {
            [CompletionResult]::new('anthropic', 'anthropic', [CompletionResultType]::ParameterValue, 'Configure Anthropic workload identity federation for the profile')
            [CompletionResult]::new('openai', 'openai', [CompletionResultType]::ParameterValue, 'Configure OpenAI workload identity federation for the profile')
            [CompletionResult]::new('issuer', 'issuer', [CompletionResultType]::ParameterValue, 'Configure the OpenID Connect provider `keyless login` signs in to')
            [CompletionResult]::new('claude-code', 'claude-code', [CompletionResultType]::ParameterValue, 'Wire Claude Code''s apiKeyHelper to `keyless credential anthropic`')
            [CompletionResult]::new('codex', 'codex', [CompletionResultType]::ParameterValue, 'Make Codex get its OpenAI token from `keyless credential openai`')
            break
        }
        'keyless;help;setup;anthropic' {
            break
        }
        'keyless;help;setup;openai' {
            break
        }
        'keyless;help;setup;issuer' {
            break
        }
        'keyless;help;setup;claude-code' {
            break
        }
        'keyless;help;setup;codex' {
            break
        }
        'keyless;help;login' {
            break
        }
        'keyless;help;logout' {
            break
        }
        'keyless;help;credential' {
            break
        }
        'keyless;help;env' {
            break
        }
        'keyless;help;exec' {
            break
        }
        'keyless;help;agent' {
            break
        }
        'keyless;help;sandbox' {
            [CompletionResult]::new('identity-token', 'identity-token', [CompletionResultType]::ParameterValue, 'Print a fresh identity JWT from a running sandbox (an identity source for tests and demos)')
            break
        }
        'keyless;help;sandbox;identity-token' {
            break
        }
        'keyless;help;demo' {
            break
        }
        'keyless;help;auth' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Report the credential precedence, static keys and keyless''s state')
            break
        }
        'keyless;help;auth;status' {
            break
        }
        'keyless;help;profile' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Every profile: providers, identity source, sign-in and cached tokens')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'What a profile holds (the chosen one without NAME), and where each value came from')
            [CompletionResult]::new('use', 'use', [CompletionResultType]::ParameterValue, 'Make NAME the active profile: used when no flag, variable or per-directory file chooses')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Log out of NAME and remove its configuration, cached tokens and served records')
            [CompletionResult]::new('rename', 'rename', [CompletionResultType]::ParameterValue, 'Rename a profile (its cached tokens are keyed by name: the next call exchanges)')
            break
        }
        'keyless;help;profile;list' {
            break
        }
        'keyless;help;profile;show' {
            break
        }
        'keyless;help;profile;use' {
            break
        }
        'keyless;help;profile;rm' {
            break
        }
        'keyless;help;profile;rename' {
            break
        }
        'keyless;help;completions' {
            break
        }
        'keyless;help;version' {
            break
        }
        'keyless;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
