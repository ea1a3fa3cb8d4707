//! The Windows side of private files: reading and writing security
//! descriptors with Win32. The rules (what is private, what is refused)
//! are portable, in [`super::acl`].
//!
//! Under Wine both calls are skipped: Wine reports success for a new DACL
//! without applying it (and turns a 0644 file into 0775 on the Unix side),
//! and reports a DACL made up from the Unix mode (Everyone may read), so
//! neither protecting nor judging means anything there. The Windows
//! scenario (tests/cli/windows) runs under Wine; the rules are unit-tested
//! in `acl.rs`, the real enforcement is the Windows runner's to prove.

use std::ffi::OsStr;
use std::io;
use std::os::windows::ffi::OsStrExt;
use std::path::Path;

use windows_sys::Win32::Foundation::{CloseHandle, ERROR_SUCCESS, HANDLE, LocalFree};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, EXPLICIT_ACCESS_W, GetSecurityInfo, SE_FILE_OBJECT, SET_ACCESS,
    SetEntriesInAclW, SetNamedSecurityInfoW, TRUSTEE_IS_SID, TRUSTEE_IS_USER, TRUSTEE_W,
};
use windows_sys::Win32::Security::{
    ACE_HEADER, ACL, DACL_SECURITY_INFORMATION, GetAce, GetTokenInformation, INHERIT_ONLY_ACE,
    OWNER_SECURITY_INFORMATION, PROTECTED_DACL_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR, PSID,
    TOKEN_QUERY, TOKEN_USER, TokenUser,
};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

use super::Unsafe;
use super::acl::{self, Ace};

/// Is this Wine? (Its ntdll exports `wine_get_version`.)
fn under_wine() -> bool {
    use std::sync::OnceLock;
    use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};
    static WINE: OnceLock<bool> = OnceLock::new();
    *WINE.get_or_init(|| {
        let ntdll: Vec<u16> = "ntdll.dll".encode_utf16().chain(Some(0)).collect();
        // SAFETY: looking up an export of a module every process has loaded.
        unsafe {
            let m = GetModuleHandleW(ntdll.as_ptr());
            !m.is_null() && GetProcAddress(m, c"wine_get_version".as_ptr().cast()).is_some()
        }
    })
}

fn wide(path: &Path) -> Vec<u16> {
    OsStr::new(path).encode_wide().chain(Some(0)).collect()
}

fn win_err(code: u32) -> io::Error {
    io::Error::from_raw_os_error(code as i32)
}

fn sid_string(sid: PSID) -> Option<String> {
    if sid.is_null() {
        return None;
    }
    let mut s = std::ptr::null_mut();
    // SAFETY: sid is valid for the call; the string is freed with LocalFree.
    unsafe {
        if ConvertSidToStringSidW(sid, &mut s) == 0 {
            return None;
        }
        let len = (0..).take_while(|&i| *s.add(i) != 0).count();
        let out = String::from_utf16_lossy(std::slice::from_raw_parts(s, len));
        LocalFree(s.cast());
        Some(out)
    }
}

/// The current user's SID, as a token buffer (the SID points into it) and
/// as a string.
fn current_user() -> io::Result<(Vec<u64>, String)> {
    // SAFETY: token queries into a buffer sized by the first call.
    unsafe {
        let mut token: HANDLE = std::ptr::null_mut();
        if OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) == 0 {
            return Err(io::Error::last_os_error());
        }
        let mut len = 0u32;
        GetTokenInformation(token, TokenUser, std::ptr::null_mut(), 0, &mut len);
        let mut buf = vec![0u64; (len as usize).div_ceil(8).max(8)];
        let ok = GetTokenInformation(token, TokenUser, buf.as_mut_ptr().cast(), len, &mut len);
        CloseHandle(token);
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        let user = &*(buf.as_ptr() as *const TOKEN_USER);
        let sid = sid_string(user.User.Sid).ok_or_else(io::Error::last_os_error)?;
        Ok((buf, sid))
    }
}

/// Give `path` a protected DACL with one entry: the current user, full
/// control (inherited by what a directory will hold).
pub fn restrict(path: &Path, is_dir: bool) -> io::Result<()> {
    if under_wine() {
        return Ok(());
    }
    let (buf, _) = current_user()?;
    let (mask, inherit) = acl::owner_only(is_dir);
    // SAFETY: the SID points into `buf`, alive for the calls; the new ACL
    // is freed with LocalFree.
    unsafe {
        let user = &*(buf.as_ptr() as *const TOKEN_USER);
        let ea = EXPLICIT_ACCESS_W {
            grfAccessPermissions: mask,
            grfAccessMode: SET_ACCESS,
            grfInheritance: inherit,
            Trustee: TRUSTEE_W {
                pMultipleTrustee: std::ptr::null_mut(),
                MultipleTrusteeOperation: 0,
                TrusteeForm: TRUSTEE_IS_SID,
                TrusteeType: TRUSTEE_IS_USER,
                ptstrName: user.User.Sid.cast(),
            },
        };
        let mut new: *mut ACL = std::ptr::null_mut();
        let r = SetEntriesInAclW(1, &ea, std::ptr::null(), &mut new);
        if r != ERROR_SUCCESS {
            return Err(win_err(r));
        }
        let r = SetNamedSecurityInfoW(
            wide(path).as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            new,
            std::ptr::null(),
        );
        LocalFree(new.cast());
        if r != ERROR_SUCCESS {
            return Err(win_err(r));
        }
    }
    Ok(())
}

/// Judge `path`'s owner and DACL ([`acl::judge`]). A descriptor that cannot
/// be read is refused as not owned.
pub fn check(path: &Path, forbidden: u32) -> Result<(), Unsafe> {
    if under_wine() {
        return Ok(());
    }
    let Ok((_, me)) = current_user() else {
        return Err(Unsafe::NotOwned);
    };
    let (owner, entries) = descriptor(path)?;
    acl::judge(&owner, entries.as_deref(), &me, forbidden)
}

/// Judge a machine-wide file's owner and DACL ([`acl::judge_machine`]),
/// read from the open handle (the file judged is the file read, whatever
/// happens to its name meanwhile). Under Wine, whose descriptors are made
/// up, a file is the system's.
pub fn machine_owned(file: &std::fs::File) -> Result<(), Unsafe> {
    if under_wine() {
        return Ok(());
    }
    use std::os::windows::io::AsRawHandle;
    let (owner, entries) = handle_descriptor(file.as_raw_handle())?;
    acl::judge_machine(&owner, entries.as_deref())
}

/// Judge the folder of a machine-wide file ([`acl::judge_machine_folder`]),
/// by a handle to the folder itself (a link is judged as the link). Under
/// Wine, the system's.
pub fn machine_owned_folder(dir: &Path) -> Result<(), Unsafe> {
    if under_wine() {
        return Ok(());
    }
    let (owner, entries) = descriptor(dir)?;
    acl::judge_machine_folder(&owner, entries.as_deref())
}

/// The owner SID and DACL entries of an open file or folder.
fn handle_descriptor(
    h: std::os::windows::io::RawHandle,
) -> Result<(String, Option<Vec<Ace>>), Unsafe> {
    let mut owner: PSID = std::ptr::null_mut();
    let mut dacl: *mut ACL = std::ptr::null_mut();
    let mut sd: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
    // SAFETY: a handle the caller keeps open; out-pointers into the
    // descriptor, freed with LocalFree after the entries are copied out.
    let r = unsafe {
        GetSecurityInfo(
            h as HANDLE,
            SE_FILE_OBJECT,
            OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
            &mut owner,
            std::ptr::null_mut(),
            &mut dacl,
            std::ptr::null_mut(),
            &mut sd,
        )
    };
    if r != ERROR_SUCCESS {
        return Err(Unsafe::NotOwned);
    }
    // SAFETY: as above.
    unsafe { Ok(copy_out(owner, dacl, sd)) }
}

/// `path`'s owner SID and DACL entries (None: a NULL DACL), read from a
/// handle to the file or folder itself (a link is read as the link). One
/// that cannot be opened or read is refused as not owned.
fn descriptor(path: &Path) -> Result<(String, Option<Vec<Ace>>), Unsafe> {
    use std::os::windows::fs::OpenOptionsExt;
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Storage::FileSystem::{
        FILE_FLAG_BACKUP_SEMANTICS, FILE_FLAG_OPEN_REPARSE_POINT, READ_CONTROL,
    };
    let f = std::fs::OpenOptions::new()
        .access_mode(READ_CONTROL)
        .custom_flags(FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT)
        .open(path)
        .map_err(|_| Unsafe::NotOwned)?;
    handle_descriptor(f.as_raw_handle())
}

/// The owner and entries of a descriptor Win32 returned; frees it.
unsafe fn copy_out(
    owner: PSID,
    dacl: *mut ACL,
    sd: PSECURITY_DESCRIPTOR,
) -> (String, Option<Vec<Ace>>) {
    let owner_sid = sid_string(owner).unwrap_or_default();
    // SAFETY (caller): dacl is null or a valid ACL inside `sd`.
    let entries = (!dacl.is_null()).then(|| unsafe { aces(dacl) });
    // SAFETY: `sd` was allocated by Win32 for LocalFree.
    unsafe { LocalFree(sd.cast()) };
    (owner_sid, entries)
}

/// The entries of a DACL; unknown ACE types count as allowing everything to
/// an unknown SID (refused).
unsafe fn aces(dacl: *mut ACL) -> Vec<Ace> {
    let mut v = Vec::new();
    // SAFETY (caller): dacl is a valid ACL.
    let count = unsafe { (*dacl).AceCount };
    for i in 0..u32::from(count) {
        let mut p: *mut core::ffi::c_void = std::ptr::null_mut();
        // SAFETY: i < AceCount.
        if unsafe { GetAce(dacl, i, &mut p) } == 0 {
            continue;
        }
        // SAFETY: every ACE starts with an ACE_HEADER.
        let h = unsafe { &*(p as *const ACE_HEADER) };
        let inherit_only = u32::from(h.AceFlags) & INHERIT_ONLY_ACE != 0;
        // ACCESS_ALLOWED_ACE (0) and ACCESS_DENIED_ACE (1): header, mask, SID.
        if h.AceType <= 1 {
            // SAFETY: the layout of both types: a u32 mask after the header,
            // then the SID.
            let (mask, sid) = unsafe {
                let mask = *(p.cast::<u8>().add(4) as *const u32);
                (mask, sid_string(p.cast::<u8>().add(8).cast()))
            };
            v.push(Ace {
                allow: h.AceType == 0,
                sid: sid.unwrap_or_default(),
                mask,
                inherit_only,
            });
        } else if !inherit_only {
            v.push(Ace {
                allow: true,
                sid: format!("an entry of type {}", h.AceType),
                mask: u32::MAX,
                inherit_only,
            });
        }
    }
    v
}
