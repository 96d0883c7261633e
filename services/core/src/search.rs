//! Free-text search input, bounded the same way in every list that searches.

/// The longest search text any list accepts. Longer text is refused with a message rather
/// than passed on: a database refuses LIKE patterns past some length ("pattern too complex"),
/// and no product name or address is this long.
pub const MAX_SEARCH_CHARS: usize = 200;

/// A search text over [`MAX_SEARCH_CHARS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Search for at most 200 characters.")]
pub struct SearchTooLong;

/// The trimmed search text, `None` when there is none.
pub fn search_text(text: Option<&str>) -> Result<Option<&str>, SearchTooLong> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) if t.chars().count() > MAX_SEARCH_CHARS => Err(SearchTooLong),
        found => Ok(found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_trimmed_and_bounded() {
        assert_eq!(search_text(None), Ok(None));
        assert_eq!(search_text(Some("   ")), Ok(None));
        assert_eq!(search_text(Some(" pan ")), Ok(Some("pan")));
        assert_eq!(
            search_text(Some(&"é".repeat(200))).map(|t| t.map(|t| t.chars().count())),
            Ok(Some(200))
        );
        assert_eq!(search_text(Some(&"x".repeat(201))), Err(SearchTooLong));
        assert!(!SearchTooLong.to_string().contains("MAX"));
    }
}
