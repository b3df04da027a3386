//! Texts of the guard and the links: waiting for approval, confirming an address, the private
//! email form. Like every comment, they mention only the requester's own login and never echo
//! an address or anything else from the issue. The mail that asks to confirm an address goes to
//! someone who has not said yes yet: it carries the series' own texts and the requester's
//! GitHub login only, never a name or other words from the request.

use super::{marker, mention};
use crate::core::identity::Login;
use crate::core::job::Hold;
use crate::core::series::Series;

/// The comment on a request that waits for a maintainer.
pub fn needs_approval_comment(series: &Series, login: &str, hold: Hold) -> String {
    let who = mention(login);
    let why = match hold {
        Hold::SeriesLimit => "the series has taken as many new members today as it takes in a day",
        Hold::PersonLimit => "you've asked several times today",
        Hold::NewAccount => "your GitHub account is new",
        // One text for every reason about the address: the reply must not tell a new address
        // from another member's, or one that got a confirmation today.
        Hold::UnprovenAddress | Hold::AddressOfMember | Hold::AddressLimit => {
            "I can't check by a link that the address in your request is yours"
        }
    };
    format!(
        "Hi{who}, thanks for asking to join **{}**! Because {why}, a maintainer will look at this request before I send the invitation. Maintainers: add the label `{}` to let it through.\n\n{}",
        series.title,
        series.guard.approved_label,
        marker(series, "needs-approval")
    )
}

/// The comment on a request whose address must be confirmed by its owner. The same words
/// whether the confirmation mail went out or was held back (the address got one today, or it
/// is another member's), so the reply reveals nothing about the address.
pub fn awaiting_confirmation_comment(series: &Series, login: &str) -> String {
    let who = mention(login);
    format!(
        "Hi{who}, thanks for asking to join **{}**! Before the invitation goes out, the owner of the address has to confirm it: the address gets an email with a link (at most one such email a day), and pressing the button there sends the invitation right away. The link works for 7 days. No email? Check your spam folder; otherwise a maintainer will look at this request.\n\n{}",
        series.title,
        marker(series, "awaiting-confirmation")
    )
}

/// The paragraph added to the question for an address: the private form.
pub fn private_email_paragraph(url: &str) -> String {
    format!(
        "\n\nRather not put your address in a public issue? Give it privately here: {url} (only the bot sees it; the link works for 30 days)."
    )
}

/// The subject and text of the mail that asks to confirm an address: the series' own texts
/// and the requester's GitHub login (shown only if it is one GitHub gives out), nothing else
/// from the request.
pub fn confirmation_mail(series: &Series, login: &str, url: &str) -> (String, String) {
    let subject = format!("Please confirm: invitations to {}", series.title);
    let who = match Login::parse(login) {
        Ok(login) => format!("the GitHub user {}", login.as_str()),
        Err(_) => "a GitHub user".to_string(),
    };
    let text = format!(
        "Hello,\n\n\
         {who} asked on GitHub to get the calendar invitations for \"{}\" at this address.\n\n\
         If that is you, open this link and press the button to confirm:\n\n{url}\n\n\
         The link works for 7 days. If you didn't ask for this, ignore this mail: nothing more will be sent to you.\n",
        series.title
    );
    (subject, text)
}

/// The line every invitation ends with: how to leave in one click.
pub fn leave_link_line(url: &str) -> String {
    format!("\nTo stop getting these invitations and leave the series: {url}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::series::testing::sample_series;

    #[test]
    fn comments_mention_only_the_requester_and_carry_the_marker() {
        let series = &sample_series();
        for hold in Hold::ALL {
            let text = needs_approval_comment(series, "ada", hold);
            assert!(text.contains("@ada"));
            assert_eq!(text.matches('@').count(), 1, "{text}");
            assert!(text.contains("`approved`"));
            assert!(text.contains(":needs-approval -->"));
        }
        let text = awaiting_confirmation_comment(series, "@everyone");
        assert!(!text.contains('@'), "{text}");
        // The reasons about an address read alike.
        let unproven = needs_approval_comment(series, "ada", Hold::UnprovenAddress);
        for hold in [Hold::AddressOfMember, Hold::AddressLimit] {
            assert_eq!(needs_approval_comment(series, "ada", hold), unproven);
        }
    }

    #[test]
    fn the_confirmation_mail_carries_the_login_and_the_series_texts_only() {
        let series = &sample_series();
        let (subject, text) = confirmation_mail(series, "mallory", "https://x.test/confirm/t");
        assert!(subject.contains(&series.title));
        assert!(text.contains("the GitHub user mallory asked"), "{text}");
        assert!(text.contains("https://x.test/confirm/t"));
        assert!(text.starts_with("Hello,\n"), "{text}");
        // Something that isn't a login GitHub gives out is not echoed.
        let (_, text) = confirmation_mail(series, "URGENT verify at https://evil.example", "u");
        assert!(!text.contains("evil"), "{text}");
        assert!(text.contains("a GitHub user asked"), "{text}");
    }
}
