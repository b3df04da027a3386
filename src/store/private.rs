//! The data folder is private: it holds names, addresses, mail files and the link key. Opening
//! the store tightens what an earlier version (or a hand) left wider: the folder and every folder
//! in it `0700`, every file `0600`. Symbolic links are left alone (never followed).

use std::path::Path;

/// The mode of a private folder.
#[cfg(unix)]
const FOLDER_MODE: u32 = 0o700;
/// The mode of a private file.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;

/// Makes `dir` and everything in it readable by its owner only. Only what is wider is
/// changed, so a folder already private opens for anyone allowed in (a command run by root, say).
#[cfg(unix)]
pub(super) fn make_private(dir: &Path) -> std::io::Result<()> {
    tighten(dir, &std::fs::metadata(dir)?, FOLDER_MODE)?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            make_private(&entry.path())?;
        } else if kind.is_file() {
            tighten(&entry.path(), &entry.metadata()?, FILE_MODE)?;
        }
    }
    Ok(())
}

/// Sets `mode` if the group or others may do anything with `path`.
#[cfg(unix)]
fn tighten(path: &Path, metadata: &std::fs::Metadata, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if metadata.permissions().mode() & 0o077 == 0 {
        return Ok(());
    }
    set_mode(path, mode)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Other systems have no owner-only modes to set.
#[cfg(not(unix))]
pub(super) fn make_private(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_become_0700_and_files_0600() {
        let dir = tempfile::tempdir().unwrap();
        let mail = dir.path().join("mail");
        std::fs::create_dir(&mail).unwrap();
        std::fs::write(mail.join("a.eml"), "x").unwrap();
        std::fs::write(dir.path().join("invitebot.sqlite3-wal"), "x").unwrap();
        for path in [dir.path(), &mail] {
            set_mode(path, 0o755).unwrap();
        }
        set_mode(&mail.join("a.eml"), 0o644).unwrap();
        make_private(dir.path()).unwrap();
        assert_eq!(mode(dir.path()), 0o700);
        assert_eq!(mode(&mail), 0o700);
        assert_eq!(mode(&mail.join("a.eml")), 0o600);
        assert_eq!(mode(&dir.path().join("invitebot.sqlite3-wal")), 0o600);
    }
}
