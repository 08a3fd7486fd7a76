//! Names people give things (API tokens, alert destinations): checked the same way everywhere
//! they are shown back, in lists, the audit log and chat messages.

use super::error::AppError;

/// Characters that reorder text on screen (bidirectional embeddings, overrides and isolates):
/// a name holding one could display as something else ("txt.exe" shown as "exe.txt").
fn reorders(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// `raw` as kept: trimmed, non-empty (else `empty`), at most `max` characters, without control
/// or reordering characters. A refusal names the field `name`.
pub(crate) fn clean(raw: &str, max: usize, empty: &str) -> Result<String, AppError> {
    let invalid = |message: String| AppError::Invalid {
        field: "name".into(),
        message,
    };
    let name = raw.trim();
    if name.is_empty() {
        return Err(invalid(empty.to_owned()));
    }
    if name.chars().count() > max {
        return Err(invalid(format!("at most {max} characters")));
    }
    if name.chars().any(|c| c.is_control() || reorders(c)) {
        return Err(invalid(
            "line breaks, control characters and text-direction marks are not allowed".into(),
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_free_of_controls_and_direction_marks() {
        assert_eq!(
            clean("  Nightly export ", 80, "empty").expect("ok"),
            "Nightly export"
        );
        assert_eq!(
            clean("Ünïcødé 名前 ✓", 80, "empty").expect("ok"),
            "Ünïcødé 名前 ✓"
        );
        for bad in [
            "",
            "   ",
            "a\nb",
            "a\u{0}b",
            "invoice\u{202E}fdp.exe",
            "a\u{2066}b",
            &"x".repeat(81),
        ] {
            assert!(
                matches!(clean(bad, 80, "empty"), Err(AppError::Invalid { ref field, .. }) if field == "name"),
                "{bad:?}"
            );
        }
        assert_eq!(
            clean(&"é".repeat(80), 80, "empty")
                .expect("80 characters")
                .chars()
                .count(),
            80
        );
    }
}
