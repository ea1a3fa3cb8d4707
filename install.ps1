<#
.SYNOPSIS
Install keyless on Windows: the release's keyless.exe and its PowerShell
completion, verified against the release's SHA256SUMS. No Rust toolchain
needed.

.DESCRIPTION
  .\install.ps1 [-Prefix DIR] [-Version V] [-From URL-or-DIR]
  .\install.ps1 -Uninstall [-Prefix DIR]
  irm BASE/latest/download/install.ps1 | iex   # once a release is published

The project's releases (BASE) are its GitHub releases (the $Releases line
of this script); none is published there yet: until one is, use -From with
a directory holding a release's files (target\dist after scripts/package).
$env:KEYLESS_RELEASE_BASE replaces BASE with a mirror laid out the same way
(BASE/latest/download/FILE, BASE/download/vVERSION/FILE).

Nothing is installed unless the archive's SHA-256 matches its SHA256SUMS
entry: a missing entry, a mismatch, a short download or an HTTP error stop
it with a message and a non-zero exit. -Uninstall removes exactly the files
(and the PATH entry) this script added. To build from source instead, see
install.sh --from-source (Rust >= 1.89 and a C compiler: mingw-w64 or MSVC).

.PARAMETER Prefix
Where to install (default: %LOCALAPPDATA%\Programs\keyless).

.PARAMETER Version
That release instead of the latest, e.g. 0.1.0.

.PARAMETER From
A release directory (URL or local path) holding SHA256SUMS and the archives,
instead of the project's releases (also $env:KEYLESS_INSTALL_FROM).
#>
[CmdletBinding()]
param(
    [string]$Prefix = (Join-Path $env:LOCALAPPDATA 'Programs\keyless'),
    [string]$Version = '',
    [string]$From = $env:KEYLESS_INSTALL_FROM,
    [switch]$Uninstall
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if ($PSVersionTable.PSVersion.Major -lt 6) {
    # Windows PowerShell 5.1: GitHub needs TLS 1.2, which older .NET set-ups
    # do not offer by default; and its progress bar slows Invoke-WebRequest
    # many times over (Say lines report progress instead).
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
    $ProgressPreference = 'SilentlyContinue'
}

# The one release location; everything else derives from it.
$Releases = if ($env:KEYLESS_RELEASE_BASE) { $env:KEYLESS_RELEASE_BASE.TrimEnd('/') } else { 'https://github.com/keyless-cli/keyless/releases' }
$Target = 'x86_64-pc-windows-gnu'   # also runs on Windows on Arm (x64 emulation)
$Manifest = Join-Path $Prefix 'install-manifest.txt'

# A terminating error, not `exit`: run as `irm … | iex`, exit would close
# the user's PowerShell window and the message with it. Run as a file, an
# uncaught error still ends it with exit code 1.
function Fail([string]$Message) {
    throw "install.ps1: $Message"
}
function Say([string]$Message) { Write-Host "install.ps1: $Message" }

function Remove-Installed {
    if (-not (Test-Path -LiteralPath $Manifest)) {
        Fail "nothing to uninstall: $Manifest does not exist (was keyless installed with -Prefix $Prefix?)"
    }
    $lines = Get-Content -LiteralPath $Manifest
    foreach ($line in $lines) {
        $kind, $path = $line -split ' ', 2
        if ($kind -eq 'file') {
            if (-not $path.StartsWith($Prefix)) { Fail "refusing: $Manifest names $path, outside $Prefix" }
            Remove-Item -LiteralPath $path -Force -ErrorAction SilentlyContinue
        } elseif ($kind -eq 'path') {
            $user = [Environment]::GetEnvironmentVariable('Path', 'User')
            $kept = ($user -split ';' | Where-Object { $_ -and $_ -ne $path }) -join ';'
            [Environment]::SetEnvironmentVariable('Path', $kept, 'User')
        }
    }
    Remove-Item -LiteralPath $Manifest -Force
    $dirs = $lines | Where-Object { $_ -like 'dir *' } | ForEach-Object { $_.Substring(4) } | Sort-Object -Descending
    foreach ($d in $dirs) {
        if ((Test-Path -LiteralPath $d) -and -not (Get-ChildItem -LiteralPath $d -Force)) {
            Remove-Item -LiteralPath $d -Force
        }
    }
    Say "removed keyless from $Prefix"
}

# Fetch a release file from a URL (any HTTP error or short body fails) or a directory.
function Get-ReleaseFile([string]$Source, [string]$Name, [string]$Out) {
    if ($Source -match '^https?://') {
        $url = "$Source/$Name"
        try {
            Invoke-WebRequest -Uri $url -OutFile $Out -UseBasicParsing
        } catch {
            $unpublished = if ($From) { '' } else { ". Is a release published at $Releases yet? If not: use -From with a directory holding a release's files" }
            Fail "cannot download ${url}: $($_.Exception.Message); nothing was installed$unpublished"
        }
    } else {
        $path = Join-Path $Source $Name
        if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { Fail "$path does not exist; nothing was installed" }
        Copy-Item -LiteralPath $path -Destination $Out
    }
}

function Install-Release {
    if ($Version -and $Version -notmatch '^v?[0-9][0-9A-Za-z.+-]*$') {
        Fail "-Version wants a version number like 0.1.0, not '$Version'"
    }
    $Version = $Version -replace '^v', ''
    if ($From) { $src = $From.TrimEnd('/', '\') }
    elseif ($Version) { $src = "$Releases/download/v$Version" }
    else { $src = "$Releases/latest/download" }

    $work = Join-Path ([IO.Path]::GetTempPath()) ("keyless-install-" + [Guid]::NewGuid())
    New-Item -ItemType Directory -Path $work | Out-Null
    try {
        Say "fetching SHA256SUMS from $src"
        Get-ReleaseFile $src 'SHA256SUMS' (Join-Path $work 'SHA256SUMS')
        $suffix = "-$Target.zip"
        $entries = Get-Content -LiteralPath (Join-Path $work 'SHA256SUMS') | ForEach-Object {
            $hash, $name = $_ -split '\s+\*?', 2
            if ($hash -match '^[0-9a-f]{64}$' -and $name -and $name.StartsWith('keyless-') -and $name.EndsWith($suffix)) {
                if (-not $Version -or $name -eq "keyless-$Version$suffix") {
                    [pscustomobject]@{ Hash = $hash; Name = $name }
                }
            }
        }
        $entry = @($entries) | Sort-Object { [version](($_.Name -replace '^keyless-', '' -replace [regex]::Escape($suffix), '') -replace '[^0-9.].*$', '') } | Select-Object -Last 1
        $pattern = if ($Version) { "keyless-$Version$suffix" } else { "keyless-VERSION$suffix" }
        if (-not $entry) { Fail "SHA256SUMS at $src has no entry for $pattern; nothing was installed" }

        Say "downloading $($entry.Name)"
        $zip = Join-Path $work $entry.Name
        Get-ReleaseFile $src $entry.Name $zip
        $got = (Get-FileHash -Algorithm SHA256 -LiteralPath $zip).Hash.ToLowerInvariant()
        if ($got -ne $entry.Hash) {
            Fail "$($entry.Name) does not match SHA256SUMS (expected $($entry.Hash), got $got): a damaged or tampered download; nothing was installed"
        }
        Say "verified $($entry.Name) (sha256 $got)"
        Expand-Archive -LiteralPath $zip -DestinationPath (Join-Path $work 'x')
        $dir = Join-Path (Join-Path $work 'x') ($entry.Name -replace '\.zip$', '')
        if (-not (Test-Path -LiteralPath (Join-Path $dir 'keyless.exe'))) { Fail "$($entry.Name) holds no keyless.exe; nothing was installed" }

        $record = New-Object System.Collections.Generic.List[string]
        if (Test-Path -LiteralPath $Manifest) {
            Get-Content -LiteralPath $Manifest | Where-Object { $_ -like 'dir *' -or $_ -like 'path *' } | ForEach-Object { $record.Add($_) }
        }
        $bin = Join-Path $Prefix 'bin'
        $comp = Join-Path $Prefix 'completions'
        foreach ($d in @($Prefix, $bin, $comp)) {
            if (-not (Test-Path -LiteralPath $d)) {
                New-Item -ItemType Directory -Path $d | Out-Null
                $record.Add("dir $d")
            }
        }
        Copy-Item -LiteralPath (Join-Path $dir 'keyless.exe') -Destination (Join-Path $bin 'keyless.exe') -Force
        $record.Add("file $(Join-Path $bin 'keyless.exe')")
        Copy-Item -LiteralPath (Join-Path $dir 'completions\_keyless.ps1') -Destination (Join-Path $comp '_keyless.ps1') -Force
        $record.Add("file $(Join-Path $comp '_keyless.ps1')")

        $user = [Environment]::GetEnvironmentVariable('Path', 'User')
        if (-not (($user -split ';') -contains $bin)) {
            [Environment]::SetEnvironmentVariable('Path', (@($user, $bin) | Where-Object { $_ }) -join ';', 'User')
            $record.Add("path $bin")
            Say "added $bin to your user PATH (new terminals see it)"
        }
        $record | Sort-Object -Unique | Set-Content -LiteralPath $Manifest
        $installed = & (Join-Path $bin 'keyless.exe') --version
        Say "installed $installed into $Prefix. Try: keyless demo"
        Say "completion: add '. `"$(Join-Path $comp '_keyless.ps1')`"' to your `$PROFILE"
    } finally {
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }
}

if ($Uninstall) { Remove-Installed } else { Install-Release }
