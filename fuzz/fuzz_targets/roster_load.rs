//! The roster loader on arbitrary file contents (`Roster::parse`, what `Roster::load` runs on
//! the file's text): no panic; a loaded roster keeps its promises (unique logins and
//! addresses, a name for everyone); an error says where (`path:line:col:`) and never echoes an
//! email address written in the file.
//!
//! Seeds: `fuzz/seeds/roster_load/` and the rosters under `config/roster/`.

#![no_main]

use std::path::Path;

use invitebot::core::email_address::EmailAddress;
use invitebot::roster::Roster;
use libfuzzer_sys::fuzz_target;

/// Addresses the error messages give as examples of the right form.
const EXAMPLES: &[&str] = &["name@example.org"];

fuzz_target!(|text: &str| {
    match Roster::parse(text, Path::new("roster.toml")) {
        Ok(roster) => {
            let members = roster.members();
            for (i, member) in members.iter().enumerate() {
                assert!(!member.name.trim().is_empty());
                for earlier in &members[..i] {
                    assert!(!earlier.github.eq_ignore_ascii_case(&member.github));
                    assert!(!earlier.email.same_mailbox(&member.email));
                }
            }
        }
        Err(error) => {
            let message = error.to_string();
            assert!(message.starts_with("roster.toml:"), "{message}");
            for word in message.split(|c: char| c.is_whitespace() || "\"'`()<>,;".contains(c)) {
                let word = word.trim_matches(|c: char| c.is_ascii_punctuation() && c != '@');
                let leaked = word.contains('@')
                    && !EXAMPLES.contains(&word)
                    && EmailAddress::parse(word).is_ok()
                    && text.contains(word);
                assert!(
                    !leaked,
                    "the error echoes an address of the file: {message}"
                );
            }
        }
    }
});
