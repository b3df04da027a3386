//! Records the git commit the binary was built from, for `invitebot --version` (or the
//! `INVITEBOT_GIT_COMMIT` given to the build, where there is no `.git`, e.g. in a container build).

use std::process::Command;

fn main() {
    let commit = std::env::var("INVITEBOT_GIT_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown commit".to_string());
    println!("cargo:rustc-env=INVITEBOT_GIT_COMMIT={commit}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    println!("cargo:rerun-if-env-changed=INVITEBOT_GIT_COMMIT");
}

/// The short commit id of the checkout, if this is a git checkout.
fn git_commit() -> Option<String> {
    Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty())
}
