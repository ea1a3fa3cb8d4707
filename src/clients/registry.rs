//! Windows keeps a user's and the machine's environment variables in the
//! registry (what `setx` and the System Properties dialog write), and every
//! program started afterwards inherits them: a static key set there outlives
//! any shell. `auth status` names the key that holds one, as it names a
//! shell startup file's line; the value is never read.

use super::scan::Finding;

/// The user's environment.
pub const USER: &str = r"HKEY_CURRENT_USER\Environment";
/// The machine's environment (every user's).
pub const MACHINE: &str =
    r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\Session Manager\Environment";

/// Findings for the (registry key, variable) pairs present. A registry key
/// has no lines: `line` is 1.
pub fn findings(present: &[(&str, &str)]) -> Vec<Finding> {
    present
        .iter()
        .map(|(key, var)| Finding {
            path: key.to_string(),
            line: 1,
            what: format!(
                "sets {var}: every program {} starts inherits it",
                if *key == MACHINE {
                    "on this machine"
                } else {
                    "this user"
                }
            ),
        })
        .collect()
}

/// Static keys in this machine's registry environment (none off Windows).
pub fn scan() -> Vec<Finding> {
    findings(&present())
}

/// The (key, variable) pairs for [`super::scan::VARS`] that exist in either key.
#[cfg(windows)]
fn present() -> Vec<(&'static str, &'static str)> {
    use super::scan::VARS;
    use windows_sys::Win32::Foundation::ERROR_SUCCESS;
    use windows_sys::Win32::System::Registry::{
        HKEY, HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, RRF_NOEXPAND, RRF_RT_ANY, RegGetValueW,
    };
    let wide = |s: &str| s.encode_utf16().chain([0]).collect::<Vec<u16>>();
    let keys: [(&'static str, HKEY, &str); 2] = [
        (USER, HKEY_CURRENT_USER, "Environment"),
        (
            MACHINE,
            HKEY_LOCAL_MACHINE,
            r"SYSTEM\CurrentControlSet\Control\Session Manager\Environment",
        ),
    ];
    let mut out = Vec::new();
    for (label, root, sub) in keys {
        let sub = wide(sub);
        for var in VARS {
            let name = wide(var);
            // SAFETY: NUL-terminated names that outlive the call; no data
            // buffer and no size asked for: only whether the value exists.
            let r = unsafe {
                RegGetValueW(
                    root,
                    sub.as_ptr(),
                    name.as_ptr(),
                    RRF_RT_ANY | RRF_NOEXPAND,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            };
            if r == ERROR_SUCCESS {
                out.push((label, var));
            }
        }
    }
    out
}

#[cfg(not(windows))]
fn present() -> Vec<(&'static str, &'static str)> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_findings_name_the_key_and_who_inherits() {
        let f = findings(&[
            (USER, "ANTHROPIC_API_KEY"),
            (MACHINE, "ANTHROPIC_AUTH_TOKEN"),
        ]);
        assert_eq!(f[0].path, r"HKEY_CURRENT_USER\Environment");
        assert_eq!(f[0].line, 1);
        assert!(f[0].what.starts_with("sets ANTHROPIC_API_KEY: "));
        assert!(f[0].what.contains("this user"));
        assert!(f[1].what.contains("on this machine"));
        assert!(scan().is_empty() || cfg!(windows));
    }
}
