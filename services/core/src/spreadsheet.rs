//! Text bound for a spreadsheet (the CSV exports).

/// A spreadsheet cell. Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`,
/// tab, carriage return first) is prefixed with `'`, so a product name or an address typed
/// by a shopper cannot become a formula on the merchant's computer.
pub fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formulas_are_defused_and_plain_text_is_kept() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("Fernhill Tee"), "Fernhill Tee");
        assert_eq!(cell(""), "");
    }
}
