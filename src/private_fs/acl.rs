//! What an owner-only file looks like on Windows, and how a file's security
//! descriptor is judged: portable data and rules, so they are unit-tested on
//! Linux (Wine neither enforces ACLs against another account nor has one).
//! The Win32 calls that read and write descriptors are in [`super::windows`].
//!
//! Private means: owned by the current user (or by the Administrators group,
//! which elevated processes of an administrator give their files), with a
//! protected DACL (nothing inherited from the folder above) that grants the
//! current user alone. SYSTEM and Administrators can take any file anyway,
//! so an entry for them is no loss of privacy and is allowed, as Unix lets
//! root read a 0600 file.

use super::Unsafe;

/// One entry of a DACL: allow or deny, to a SID (`S-1-5-…`), these rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ace {
    pub allow: bool,
    pub sid: String,
    pub mask: u32,
    /// Applies only to children (INHERIT_ONLY_ACE), not to the object.
    pub inherit_only: bool,
}

/// SYSTEM and the Administrators group.
pub const TRUSTED: [&str; 2] = ["S-1-5-18", "S-1-5-32-544"];

/// Rights that change a file or its protection: FILE_WRITE_DATA,
/// FILE_APPEND_DATA, FILE_WRITE_EA, FILE_DELETE_CHILD,
/// FILE_WRITE_ATTRIBUTES, DELETE, WRITE_DAC, WRITE_OWNER, GENERIC_ALL,
/// GENERIC_WRITE.
pub const WRITE_RIGHTS: u32 =
    0x2 | 0x4 | 0x10 | 0x40 | 0x100 | 0x1_0000 | 0x4_0000 | 0x8_0000 | 0x1000_0000 | 0x4000_0000;
/// Rights that read a file: FILE_READ_DATA, FILE_READ_EA, GENERIC_ALL,
/// GENERIC_READ.
pub const READ_RIGHTS: u32 = 0x1 | 0x8 | 0x1000_0000 | 0x8000_0000;

/// The full-control mask keyless grants its user (FILE_ALL_ACCESS).
pub const FULL: u32 = 0x1F_01FF;
/// Inheritance of the one entry on a directory: files and folders created
/// inside get it too (OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE).
pub const DIR_INHERIT: u32 = 0x3;

/// The single entry of an owner-only DACL for `me`, for a file or a
/// directory: (rights, inheritance flags).
pub fn owner_only(is_dir: bool) -> (u32, u32) {
    (FULL, if is_dir { DIR_INHERIT } else { 0 })
}

/// Judge a descriptor like a Unix mode: `forbidden` uses the mode's bits
/// (0o022: others must not be able to change it; 0o077: nor read it).
/// `dacl` None is a NULL DACL: everyone has every right.
pub fn judge(owner: &str, dacl: Option<&[Ace]>, me: &str, forbidden: u32) -> Result<(), Unsafe> {
    if owner != me && !TRUSTED.contains(&owner) {
        return Err(Unsafe::NotOwned);
    }
    let Some(dacl) = dacl else {
        return Err(Unsafe::Shared {
            who: "Everyone (the file has no access list)".into(),
            write: true,
        });
    };
    for ace in dacl {
        if !ace.allow || ace.inherit_only || ace.sid == me || TRUSTED.contains(&ace.sid.as_str()) {
            continue;
        }
        let write = ace.mask & WRITE_RIGHTS != 0 && forbidden & 0o022 != 0;
        let read = ace.mask & READ_RIGHTS != 0 && forbidden & 0o044 != 0;
        if write || read {
            return Err(Unsafe::Shared {
                who: sid_name(&ace.sid),
                write,
            });
        }
    }
    Ok(())
}

/// TrustedInstaller, the servicing account that owns much of Windows.
pub const TRUSTED_INSTALLER: &str =
    "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464";

/// Judge a machine-wide file (the managed configuration): the system's
/// only when Administrators, SYSTEM or TrustedInstaller own it and no one
/// else is allowed any right that changes it (inherit-only entries and
/// denies do not count). Unlike [`judge`], the current user is nobody
/// special: an administrator's file, not one of the user's own.
pub fn judge_machine(owner: &str, dacl: Option<&[Ace]>) -> Result<(), Unsafe> {
    judge_system(owner, dacl, WRITE_RIGHTS)
}

/// The system's: Administrators, SYSTEM or TrustedInstaller own it, and
/// no one else is allowed any of `rights` (inherit-only entries and denies
/// do not count).
fn judge_system(owner: &str, dacl: Option<&[Ace]>, rights: u32) -> Result<(), Unsafe> {
    let system = |sid: &str| TRUSTED.contains(&sid) || sid == TRUSTED_INSTALLER;
    if !system(owner) {
        return Err(Unsafe::NotOwned);
    }
    let Some(dacl) = dacl else {
        return Err(Unsafe::Shared {
            who: "Everyone (the file has no access list)".into(),
            write: true,
        });
    };
    match dacl
        .iter()
        .find(|a| a.allow && !a.inherit_only && !system(&a.sid) && a.mask & rights != 0)
    {
        Some(a) => Err(Unsafe::Shared {
            who: sid_name(&a.sid),
            write: true,
        }),
        None => Ok(()),
    }
}

/// Rights on a folder that let their holder remove, rename or replace
/// what it holds, or the folder itself: FILE_DELETE_CHILD, DELETE,
/// WRITE_DAC, WRITE_OWNER, GENERIC_ALL. Creating entries (FILE_ADD_FILE,
/// FILE_ADD_SUBDIRECTORY, which ProgramData gives Users on the folders
/// below it) is not one: what a user creates is the user's, and refused.
pub const FOLDER_REPLACE_RIGHTS: u32 = 0x40 | 0x1_0000 | 0x4_0000 | 0x8_0000 | 0x1000_0000;

/// Judge the folder of a machine-wide file (the managed configuration's
/// `%ProgramData%\keyless`), as Unix judges its directory: the system's
/// only when Administrators, SYSTEM or TrustedInstaller own it and no one
/// else may remove or replace what it holds ([`FOLDER_REPLACE_RIGHTS`]).
pub fn judge_machine_folder(owner: &str, dacl: Option<&[Ace]>) -> Result<(), Unsafe> {
    judge_system(owner, dacl, FOLDER_REPLACE_RIGHTS)
}

/// A SID as a person reads it: the well-known groups by name.
pub fn sid_name(sid: &str) -> String {
    let name = match sid {
        "S-1-1-0" => "Everyone",
        "S-1-5-11" => "Authenticated Users",
        "S-1-5-32-545" => "Users",
        "S-1-5-32-546" => "Guests",
        "S-1-5-4" => "Interactive users",
        "S-1-3-0" => "the creator (CREATOR OWNER)",
        _ => return format!("another account ({sid})"),
    };
    format!("{name} ({sid})")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "S-1-5-21-1-2-3-1001";

    fn allow(sid: &str, mask: u32) -> Ace {
        Ace {
            allow: true,
            sid: sid.into(),
            mask,
            inherit_only: false,
        }
    }

    /// What keyless writes passes its own check, for files and folders.
    #[test]
    fn the_owner_only_dacl_is_private() {
        for dir in [false, true] {
            let (mask, _) = owner_only(dir);
            let dacl = [allow(ME, mask)];
            assert_eq!(judge(ME, Some(&dacl), ME, 0o077), Ok(()));
        }
        assert_eq!(owner_only(true).1, DIR_INHERIT);
        assert_eq!(owner_only(false).1, 0);
    }

    /// The inherited ACL of a folder others can write (C:\ProgramData,
    /// a shared drive) is refused like a Unix 0o777; one where others may
    /// only read is refused for secrets (0o077) but not for config (0o022).
    #[test]
    fn others_who_can_write_or_read_are_refused_like_loose_modes() {
        let users_write = [allow(ME, FULL), allow("S-1-5-32-545", 0x12_019F)];
        let e = judge(ME, Some(&users_write), ME, 0o022).unwrap_err();
        assert_eq!(
            e,
            Unsafe::Shared {
                who: "Users (S-1-5-32-545)".into(),
                write: true
            }
        );
        let users_read = [allow(ME, FULL), allow("S-1-5-32-545", 0x12_00A9)];
        assert_eq!(judge(ME, Some(&users_read), ME, 0o022), Ok(()));
        assert!(matches!(
            judge(ME, Some(&users_read), ME, 0o077),
            Err(Unsafe::Shared { write: false, .. })
        ));
        let generic_all = [allow("S-1-1-0", 0x1000_0000)];
        assert!(judge(ME, Some(&generic_all), ME, 0o022).is_err());
    }

    #[test]
    fn system_administrators_denies_and_inherit_only_entries_are_no_loss() {
        let dacl = [
            allow(ME, FULL),
            allow("S-1-5-18", FULL),
            allow("S-1-5-32-544", FULL),
            Ace {
                allow: false,
                sid: "S-1-1-0".into(),
                mask: FULL,
                inherit_only: false,
            },
            Ace {
                allow: true,
                sid: "S-1-3-0".into(),
                mask: FULL,
                inherit_only: true,
            },
        ];
        assert_eq!(judge(ME, Some(&dacl), ME, 0o077), Ok(()));
    }

    #[test]
    fn another_owner_and_a_null_dacl_are_refused() {
        let dacl = [allow(ME, FULL)];
        assert_eq!(
            judge("S-1-5-21-9-9-9-1002", Some(&dacl), ME, 0o022),
            Err(Unsafe::NotOwned)
        );
        assert_eq!(judge("S-1-5-32-544", Some(&dacl), ME, 0o022), Ok(()));
        assert!(matches!(
            judge(ME, None, ME, 0o022),
            Err(Unsafe::Shared { write: true, .. })
        ));
    }

    /// The managed configuration: an administrator's file with the
    /// ProgramData defaults (Users read, CREATOR OWNER inherit-only) is
    /// the system's; one the user owns, one Users or the user may change,
    /// and one without a DACL are not.
    #[test]
    fn a_machine_file_is_owned_by_the_system_and_changed_by_it_alone() {
        let admins = "S-1-5-32-544";
        let defaults = [
            allow("S-1-5-18", FULL),
            allow(admins, FULL),
            allow("S-1-5-32-545", 0x12_00A9),
            Ace {
                allow: true,
                sid: "S-1-3-0".into(),
                mask: FULL,
                inherit_only: true,
            },
        ];
        assert_eq!(judge_machine(admins, Some(&defaults)), Ok(()));
        assert_eq!(judge_machine("S-1-5-18", Some(&defaults)), Ok(()));
        assert_eq!(judge_machine(TRUSTED_INSTALLER, Some(&defaults)), Ok(()));
        assert_eq!(
            judge_machine(ME, Some(&defaults)),
            Err(Unsafe::NotOwned),
            "a user's own file is not the system's, unlike judge()"
        );
        let users_modify = [allow(admins, FULL), allow("S-1-5-32-545", 0x13_01BF)];
        assert_eq!(
            judge_machine(admins, Some(&users_modify)),
            Err(Unsafe::Shared {
                who: "Users (S-1-5-32-545)".into(),
                write: true
            })
        );
        let me_write = [allow(admins, FULL), allow(ME, 0x2)];
        assert!(judge_machine(admins, Some(&me_write)).is_err());
        let everyone_dac = [allow(admins, FULL), allow("S-1-1-0", 0x4_0000)];
        assert!(judge_machine(admins, Some(&everyone_dac)).is_err());
        let denied = [
            allow(admins, FULL),
            Ace {
                allow: false,
                sid: "S-1-1-0".into(),
                mask: FULL,
                inherit_only: false,
            },
        ];
        assert_eq!(judge_machine(admins, Some(&denied)), Ok(()));
        assert!(matches!(
            judge_machine(admins, None),
            Err(Unsafe::Shared { write: true, .. })
        ));
    }

    /// The managed file's folder (review: a user who made
    /// `%ProgramData%\keyless` could later delete the administrator's
    /// file in it, and keyless took the policy for absent, silently).
    /// ProgramData's defaults for a folder an administrator made (Users
    /// may read and create entries; CREATOR OWNER inherit-only) pass; a
    /// folder the user made, or where others may delete, rename or
    /// re-permission, does not.
    #[test]
    fn a_machine_folder_is_owned_by_the_system_and_emptied_by_it_alone() {
        let admins = "S-1-5-32-544";
        let users = "S-1-5-32-545";
        let defaults = [
            allow("S-1-5-18", FULL),
            allow(admins, FULL),
            allow(users, 0x12_00A9),
            allow(users, 0x116),
            Ace {
                allow: true,
                sid: "S-1-3-0".into(),
                mask: FULL,
                inherit_only: true,
            },
        ];
        assert_eq!(judge_machine_folder(admins, Some(&defaults)), Ok(()));
        assert_eq!(judge_machine_folder("S-1-5-18", Some(&defaults)), Ok(()));
        assert_eq!(
            judge_machine_folder(ME, Some(&defaults)),
            Err(Unsafe::NotOwned),
            "the folder a user made before the administrator placed the file"
        );
        for (sid, mask) in [
            (users, 0x40),
            (ME, 0x1_0000),
            ("S-1-1-0", 0x4_0000),
            ("S-1-5-11", 0x1000_0000),
        ] {
            let dacl = [allow(admins, FULL), allow(sid, mask)];
            assert!(
                matches!(
                    judge_machine_folder(admins, Some(&dacl)),
                    Err(Unsafe::Shared { write: true, .. })
                ),
                "{sid} {mask:#x}"
            );
        }
        assert!(judge_machine_folder(admins, None).is_err());
    }
}
