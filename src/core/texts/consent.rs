//! Texts of the guard and the links: waiting for approval, confirming an address, the private
//! email form. Like every comment, they mention only the requester's own login and never echo
//! an address or anything else from the issue.

use super::{marker, mention};
use crate::core::job::Hold;
use crate::core::series::Series;

/// The comment on a request that waits for a maintainer.
pub fn needs_approval_comment(series: &Series, login: &str, hold: Hold) -> String {
    let who = mention(login);
    let why = match hold {
        Hold::SeriesLimit => "the series has taken as many new members today as it takes in a day",
        Hold::PersonLimit => "you've asked several times today",
        Hold::NewAccount => "your GitHub account is new",
    };
    format!(
        "Hi{who}, thanks for asking to join **{}**! Because {why}, a maintainer will look at this request before I send the invitation. Maintainers: add the label `{}` to let it through.\n\n{}",
        series.title,
        series.guard.approved_label,
        marker(series, "needs-approval")
    )
}

/// The comment after the confirmation mail went out.
pub fn awaiting_confirmation_comment(series: &Series, login: &str) -> String {
    let who = mention(login);
    format!(
        "Hi{who}, thanks for asking to join **{}**! I've sent you an email with a link: open it and press the button to confirm the address, and the invitation follows right away. The link works for 7 days. No email? Check your spam folder, or open a new request.\n\n{}",
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

/// The subject and text of the mail that asks to confirm an address.
pub fn confirmation_mail(series: &Series, name: &str, url: &str) -> (String, String) {
    let subject = format!("Please confirm: invitations to {}", series.title);
    let text = format!(
        "Hello {name},\n\n\
         someone (hopefully you) asked on GitHub to get the calendar invitations for \"{}\" at this address.\n\n\
         To confirm, open this link and press the button:\n\n{url}\n\n\
         The link works for 7 days. If you didn't ask for this, ignore this mail: nothing will be sent to you.\n",
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
        for hold in [Hold::SeriesLimit, Hold::PersonLimit, Hold::NewAccount] {
            let text = needs_approval_comment(series, "ada", hold);
            assert!(text.contains("@ada"));
            assert_eq!(text.matches('@').count(), 1, "{text}");
            assert!(text.contains("`approved`"));
            assert!(text.contains(":needs-approval -->"));
        }
        let text = awaiting_confirmation_comment(series, "@everyone");
        assert!(!text.contains('@'), "{text}");
    }
}
