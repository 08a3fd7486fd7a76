//! Keyset paging of the ledgers, newest first: a page ends at a row whose key (its time as
//! stored, then its id) the next page continues after. The cursor is `<time as stored>|<id>`.

/// The cursor that continues after the row with `key` (its time as stored) and `id`.
pub(crate) fn cursor(key: &str, id: impl std::fmt::Display) -> String {
    format!("{key}|{id}")
}

/// The (time as stored, id) of a cursor; `None` for anything else.
pub(crate) fn parse(cursor: &str) -> Option<(&str, &str)> {
    cursor
        .rsplit_once('|')
        .filter(|(key, id)| !key.is_empty() && !id.is_empty())
}

/// The first `limit` of `rows` (read as `limit + 1`, so that one more tells there is a next
/// page) and, when there is a next page, the cursor after the last row kept.
pub(crate) fn cut<T>(
    mut rows: Vec<T>,
    limit: u32,
    cursor_of: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more {
        rows.last().map(cursor_of)
    } else {
        None
    };
    (rows, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_splits_at_its_last_bar_and_nonsense_is_ignored() {
        assert_eq!(
            parse("2026-01-01T00:00:00+00:00|abc"),
            Some(("2026-01-01T00:00:00+00:00", "abc"))
        );
        assert_eq!(parse("nonsense"), None);
        assert_eq!(parse("|id"), None);
        assert_eq!(parse(&cursor("t", 7)), Some(("t", "7")));
    }

    #[test]
    fn a_page_has_a_next_cursor_only_when_a_row_was_left_over() {
        let key = |n: &u32| cursor("t", n);
        assert_eq!(cut(vec![1, 2, 3], 2, key), (vec![1, 2], Some("t|2".into())));
        assert_eq!(cut(vec![1, 2], 2, key), (vec![1, 2], None));
        assert_eq!(cut(Vec::<u32>::new(), 2, key), (vec![], None));
    }
}
