//! Where the link key comes from: the configured link secret, or else a random key kept in the
//! data folder (made on first start, readable by the owner only), so links in old mails keep
//! working across restarts and upgrades.

use std::io::Write;
use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;

use super::token::LinkKey;
use crate::links::settings::LinksConfig;

/// The file in the data folder that holds the generated key.
pub const KEY_FILE: &str = "link-key";

/// Why the link key could not be had.
#[derive(Debug, thiserror::Error)]
#[error(
    "link key file {path}: {source} (set [server] link_secret_file or INVITEBOT_LINK_SECRET instead)"
)]
pub struct KeyError {
    /// The key file.
    pub path: PathBuf,
    /// What went wrong.
    #[source]
    pub source: std::io::Error,
}

/// The key links are signed with.
pub fn load_or_create(links: &LinksConfig, data_dir: &Path) -> Result<LinkKey, KeyError> {
    if let Some(secret) = &links.secret {
        return Ok(LinkKey::new(secret.expose_secret().as_bytes()));
    }
    let path = data_dir.join(KEY_FILE);
    let error = |source| KeyError {
        path: path.clone(),
        source,
    };
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() >= 32 => return Ok(LinkKey::new(&bytes)),
        Ok(_) => {
            return Err(error(std::io::Error::other(
                "holds fewer than 32 bytes; delete it to make a new one (old links stop working)",
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(error(e)),
    }
    std::fs::create_dir_all(data_dir).map_err(error)?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| error(std::io::Error::other(e.to_string())))?;
    write_new(&path, &bytes).map_err(error)?;
    // Another process may have won the race: use what is on disk.
    let bytes = std::fs::read(&path).map_err(error)?;
    Ok(LinkKey::new(&bytes))
}

/// Writes a new file readable by its owner only; an existing file is left alone.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(bytes)?;
            file.sync_all()
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::links::token::Purpose;

    #[test]
    fn the_generated_key_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let links = LinksConfig::default();
        let first = load_or_create(&links, dir.path()).unwrap();
        let token = first.sign(Purpose::Confirm, "1", None);
        let again = load_or_create(&links, dir.path()).unwrap();
        let now = jiff::Timestamp::now();
        assert!(again.verify(&token, Purpose::Confirm, now).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_configured_secret_wins() {
        let dir = tempfile::tempdir().unwrap();
        let links = LinksConfig {
            public_url: None,
            secret: Some("a configured link secret".to_string().into()),
        };
        let key = load_or_create(&links, dir.path()).unwrap();
        let token = key.sign(Purpose::Leave, "x", None);
        let same = crate::links::token::LinkKey::new(b"a configured link secret");
        assert!(
            same.verify(&token, Purpose::Leave, jiff::Timestamp::now())
                .is_ok()
        );
        assert!(!dir.path().join(KEY_FILE).exists());
    }
}
