//! Replacing a roster file atomically: a temporary file beside it, renamed over it, so a reader
//! (or a crash) sees the old text or the new one, never half of it.

use std::fs;
use std::io::{self, Write as _};
use std::path::Path;

use super::error::RosterError;

/// Replaces the file at `path` (following a symlink to its target) with `contents`: a temporary
/// file in the same directory, written, given the original's permissions and owner, synced,
/// renamed over the original; then the directory is synced.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), RosterError> {
    let failed = |step, error| RosterError::Write {
        path: path.to_owned(),
        step,
        error,
    };
    let target = fs::canonicalize(path).map_err(|error| failed("resolving the path", error))?;
    let directory = target.parent().unwrap_or(Path::new("/"));
    let original =
        fs::metadata(&target).map_err(|error| failed("reading the permissions", error))?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(target.file_name().unwrap_or_default());
    prefix.push(".");
    let mut temporary = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(directory)
        .map_err(|error| failed("creating a temporary file", error))?;
    temporary
        .write_all(contents)
        .map_err(|error| failed("writing the temporary file", error))?;
    temporary
        .as_file()
        .set_permissions(original.permissions())
        .map_err(|error| failed("setting the permissions", error))?;
    keep_owner(temporary.as_file(), &original)
        .map_err(|error| failed("giving the file its owner", error))?;
    temporary
        .as_file()
        .sync_all()
        .map_err(|error| failed("syncing the temporary file", error))?;
    temporary
        .persist(&target)
        .map_err(|error| failed("renaming the temporary file", error.error))?;
    sync_directory(directory).map_err(|error| RosterError::SyncDirectory {
        path: path.to_owned(),
        error,
    })
}

/// Gives the new file the original's owner and group (a roster holds addresses: a write by
/// another user, root say, must not hand it to them); nothing to do when they are ours.
#[cfg(unix)]
fn keep_owner(file: &fs::File, original: &fs::Metadata) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let ours = file.metadata()?;
    if (ours.uid(), ours.gid()) == (original.uid(), original.gid()) {
        return Ok(());
    }
    std::os::unix::fs::fchown(file, Some(original.uid()), Some(original.gid()))
}

#[cfg(not(unix))]
fn keep_owner(_file: &fs::File, _original: &fs::Metadata) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn sync_directory(directory: &Path) -> io::Result<()> {
    fs::File::open(directory)?.sync_all()
}

#[cfg(not(unix))]
fn sync_directory(_directory: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use crate::roster::test_support::{EXAMPLE, member, write};
    use crate::roster::{Roster, RosterError, add, remove};

    /// Gives the example roster mode 0640, changes it with `change`, and checks the mode stayed.
    #[cfg(unix)]
    fn assert_keeps_the_file_permissions(change: impl FnOnce(&std::path::Path)) {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, EXAMPLE);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        change(&path);
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o640);
    }

    #[cfg(unix)]
    #[test]
    fn add_keeps_the_file_permissions() {
        assert_keeps_the_file_permissions(|path| {
            add(path, member("eve", "Eve", "eve@example.org")).unwrap();
        });
    }

    #[cfg(unix)]
    #[test]
    fn add_through_a_symlink_updates_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = write(&dir, EXAMPLE);
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        add(&link, member("eve", "Eve", "eve@example.org")).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(Roster::load(&target).unwrap().len(), 3);
    }

    #[cfg(unix)]
    #[test]
    #[ignore = "needs a non-root user (root writes into read-only folders); run with --ignored"]
    fn a_failed_write_names_the_path_and_leaves_the_file_alone() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, EXAMPLE);
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
        let error = add(&path, member("eve", "Eve", "eve@example.org")).unwrap_err();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let message = error.to_string();
        assert!(matches!(error, RosterError::Write { .. }), "{error:?}");
        assert!(
            message.starts_with(&path.display().to_string()),
            "{message}"
        );
        assert!(message.contains("ermission denied"), "{message}");
        assert_eq!(fs::read_to_string(&path).unwrap(), EXAMPLE);
    }

    #[cfg(unix)]
    #[test]
    fn remove_keeps_the_file_permissions() {
        assert_keeps_the_file_permissions(|path| {
            remove(path, "octocat").unwrap();
        });
    }
}
