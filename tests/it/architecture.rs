//! The layering of `docs/architecture.md` ("What may import what"), checked against the code:
//! every `crate::…` path in `src/` is read, and a path from one room into a room it may not use
//! fails the test with the file, the line and the rule. Test modules count too: a test of `core`
//! that built its fixtures from `config` would tie `core` to the loader.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regex::Regex;

/// The layers, bottom first; a room may import rooms of lower layers, its own, and the
/// exceptions in [`allowed_across`].
const LAYERS: &[&[&str]] = &[
    &["core"],
    &[
        "store",
        "roster",
        "mail",
        "github",
        "telemetry",
        "watch",
        "healthcheck",
    ],
    &["webhook", "links", "meetings", "config"],
    &["reconcile", "erasure", "retention"],
    &["pipeline"],
    &["server"],
    &["main", "cli"],
];

/// The room of a source file: its first folder or file name under `src/`.
fn room_of(file: &Path) -> String {
    let relative = file.strip_prefix(src_dir()).unwrap();
    let first = relative.components().next().unwrap().as_os_str();
    first.to_string_lossy().trim_end_matches(".rs").to_string()
}

fn layer_of(room: &str) -> usize {
    LAYERS
        .iter()
        .position(|layer| layer.contains(&room))
        .unwrap_or_else(|| panic!("room `{room}` is in no layer: add it to LAYERS and the docs"))
}

/// Imports allowed although they don't point down a layer: `path` is the imported path
/// (`webhook::settings::ServerConfig`), `from` the importing room.
fn allowed_across(from: &str, path: &str) -> bool {
    const SETTINGS: &[&str] = &[
        "webhook::settings",
        "links::settings",
        "meetings::settings",
        "mail::settings",
        "github::settings",
        "github::auth",
    ];
    match from {
        "core" => false,
        // The config loader fills in the adapters' and edges' settings (and checks an App key).
        "config" if SETTINGS.iter().any(|s| path.starts_with(s)) => true,
        // Every room but core may count in the metrics.
        _ => path.starts_with("telemetry"),
    }
}

/// Whether `from` may import `path` (a path under `crate::`): its own room, a room of a lower
/// layer (rooms of one layer are independent), or an allowed exception.
fn may_import(from: &str, path: &str) -> bool {
    let to = path.split("::").next().unwrap();
    to == from || allowed_across(from, path) || layer_of(to) < layer_of(from)
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// Every `crate::a::b…` path in `text` with its line, including the items of a grouped
/// `use crate::{a, b::c}`; comments are skipped.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let path =
        Regex::new(r"\bcrate::(\{[^}]*\}|[a-z_][a-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*)").unwrap();
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap();
        for m in path.captures_iter(code) {
            let target = &m[1];
            if let Some(group) = target.strip_prefix('{') {
                for item in group.trim_end_matches('}').split(',') {
                    found.push((index + 1, item.trim().to_string()));
                }
            } else {
                found.push((index + 1, target.to_string()));
            }
        }
    }
    found
}

#[test]
fn every_import_points_down_the_layers() {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    files.sort();
    let mut broken = BTreeSet::new();
    for file in &files {
        let from = room_of(file);
        let text = std::fs::read_to_string(file).unwrap();
        for (line, path) in crate_paths(&text) {
            if !path.is_empty() && !may_import(&from, &path) {
                let shown = file.strip_prefix(src_dir()).unwrap().display();
                broken.insert(format!(
                    "src/{shown}:{line}: `{from}` imports crate::{path}"
                ));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "imports against the layering of docs/architecture.md:\n{}",
        broken.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn core_uses_no_io() {
    let mut files = Vec::new();
    rust_files(&src_dir().join("core"), &mut files);
    let io =
        Regex::new(r"\b(tokio|rusqlite|octocrab|axum|hyper|reqwest|notify|std::net)::").unwrap();
    let file_io = Regex::new(r"\bstd::fs::(write|remove|rename|create|File|OpenOptions)").unwrap();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (index, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap();
            assert!(
                !io.is_match(code) && !file_io.is_match(code),
                "{}:{}: core does I/O: {line}",
                file.display(),
                index + 1
            );
        }
    }
}

#[test]
fn the_rule_reader_sees_what_it_must() {
    let paths = crate_paths(
        "use crate::core::series::Series;\nuse crate::{config, store::Store};\n// crate::pipeline\n",
    );
    assert_eq!(
        paths,
        [
            (1, "core::series::Series".to_string()),
            (2, "config".to_string()),
            (2, "store::Store".to_string())
        ]
    );
    assert!(may_import("pipeline", "core::job::JobKind"));
    assert!(may_import("config", "webhook::settings::ServerConfig"));
    assert!(!may_import("config", "webhook::AppState"));
    assert!(!may_import("core", "config::Config"));
    assert!(!may_import("webhook", "pipeline::Pipeline"));
    assert!(!may_import("store", "roster::Roster"));
    assert!(may_import("links", "store::Store"));
    assert!(!may_import("webhook", "links::LinkMaker"));
}
