//! The category form as the browser sends it (all text), parsed into the catalog's input.

use crate::error::AppError;

pub(super) fn category_input(
    name: String,
    slug: String,
    description: String,
    parent_id: String,
    position: String,
) -> Result<catalog::categories::CategoryInput, AppError> {
    let position = match position.trim() {
        "" => 0,
        p => p
            .parse()
            .map_err(|_| AppError::field("position", "Enter a whole number, like 10."))?,
    };
    Ok(catalog::categories::CategoryInput {
        name,
        slug,
        description,
        parent_id,
        position,
    })
}
