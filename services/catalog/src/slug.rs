//! URL slugs.

/// Lower-case ASCII words joined by hyphens: `"Home & Kitchen"` → `home-and-kitchen`,
/// `"Sauté Pan"` → `saute-pan`.
pub fn slugify(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_dash = false;
    for ch in input.replace('&', " and ").chars() {
        let folded = fold(ch);
        for c in folded.chars() {
            if c.is_ascii_alphanumeric() {
                if pending_dash && !out.is_empty() {
                    out.push('-');
                }
                pending_dash = false;
                out.push(c.to_ascii_lowercase());
            } else {
                pending_dash = true;
            }
        }
    }
    out
}

/// The web address a form asks for: what was typed if it is already a slug, else one made
/// from `name` when nothing was typed; at most `max` bytes. `example` shows the shape in the
/// error message.
pub(crate) fn requested(
    typed: &str,
    name: &str,
    max: usize,
    example: &str,
) -> Result<String, crate::CatalogError> {
    let slug = match typed.trim() {
        "" => slugify(name),
        s if s == slugify(s) => s.to_owned(),
        _ => {
            return Err(crate::CatalogError::invalid(
                "slug",
                format!("Use lower-case letters, digits and '-' only, like {example}."),
            ));
        }
    };
    if slug.is_empty() || slug.len() > max {
        return Err(crate::CatalogError::invalid(
            "slug",
            format!("The web address needs 1-{max} letters or digits."),
        ));
    }
    Ok(slug)
}

/// Folds common Latin letters with diacritics to ASCII.
fn fold(ch: char) -> String {
    let s = match ch {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'æ' | 'Æ' => "ae",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'ß' => "ss",
        'œ' | 'Œ' => "oe",
        other => return other.to_string(),
    };
    s.to_owned()
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn makes_ascii_hyphenated_slugs() {
        assert_eq!(slugify("Home & Kitchen"), "home-and-kitchen");
        assert_eq!(slugify("  Sauté Pan, 28 cm "), "saute-pan-28-cm");
        assert_eq!(slugify("Lumière Botanics"), "lumiere-botanics");
        assert_eq!(
            slugify("Dice & Dragon 1000-Piece"),
            "dice-and-dragon-1000-piece"
        );
        assert_eq!(slugify("!!!"), "");
    }
}
