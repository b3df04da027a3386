//! Watching the config and roster files: any change (an editor's save, a rename over the file, the
//! roster CLI) wakes the worker, which reconciles. The folders are watched, not the files, because
//! many editors and our own atomic writes replace a file by renaming another over it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::Notify;

/// Watches a set of files and notifies on changes to them.
pub struct FileWatcher {
    watcher: RecommendedWatcher,
    folders: HashSet<PathBuf>,
    files: Arc<std::sync::Mutex<HashSet<PathBuf>>>,
}

impl FileWatcher {
    /// Starts watching nothing; `notify` is woken on every change to a watched file.
    pub fn new(notify: Arc<Notify>) -> notify::Result<Self> {
        let files: Arc<std::sync::Mutex<HashSet<PathBuf>>> = Arc::default();
        let watched = files.clone();
        let watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
                Ok(event) if changes_content(&event.kind) => {
                    let files = watched.lock().unwrap_or_else(|p| p.into_inner());
                    if event.paths.iter().any(|p| files.contains(&normalise(p))) {
                        notify.notify_one();
                    }
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "file watcher error"),
            })?;
        Ok(Self {
            watcher,
            folders: HashSet::new(),
            files,
        })
    }

    /// Watches exactly these files from now on.
    pub fn set_files(&mut self, files: &[PathBuf]) {
        let files: HashSet<PathBuf> = files.iter().map(|f| normalise(f)).collect();
        let folders: HashSet<PathBuf> = files
            .iter()
            .filter_map(|f| f.parent().map(Path::to_path_buf))
            .collect();
        for gone in self.folders.difference(&folders) {
            let _ = self.watcher.unwatch(gone);
        }
        for new in folders.difference(&self.folders) {
            if let Err(error) = self.watcher.watch(new, RecursiveMode::NonRecursive) {
                tracing::warn!(folder = %new.display(), %error, "cannot watch folder; changes there need SIGHUP or a restart");
            }
        }
        self.folders = folders;
        *self.files.lock().unwrap_or_else(|p| p.into_inner()) = files;
    }
}

/// Whether an event can change what a file holds: a file created, written, renamed or removed.
/// Opening, reading or closing a file (the bot's own reads of the config and rosters) and
/// changes of metadata alone are not changes: reacting to them made an idle server reconcile
/// every few hundred milliseconds, forever.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        // `Any`: a backend that can't tell; better a pass too many than a change missed.
        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Any => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Other => false,
    }
}

/// An absolute path with the folder resolved (the file itself may be missing or replaced).
fn normalise(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (absolute.parent(), absolute.file_name()) {
        (Some(folder), Some(name)) => std::fs::canonicalize(folder)
            .unwrap_or_else(|_| folder.to_path_buf())
            .join(name),
        _ => absolute,
    }
}

#[cfg(test)]
mod tests {
    use notify::event::{CreateKind, DataChange, MetadataKind, RemoveKind, RenameMode};

    use super::*;

    #[test]
    fn only_events_that_can_change_a_file_count() {
        for kind in [
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            EventKind::Remove(RemoveKind::File),
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
        ] {
            assert!(changes_content(&kind), "{kind:?}");
        }
        for kind in [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Access(AccessKind::Read),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)),
            EventKind::Other,
        ] {
            assert!(!changes_content(&kind), "{kind:?}");
        }
    }
}
