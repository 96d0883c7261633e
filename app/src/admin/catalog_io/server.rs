//! The server side of the import and export page: the catalog's counts, and the outcome an
//! upload left in the session for the page it returns to (shown once, there).

use super::{CatalogIoPage, OUTCOME_KEY, UploadOutcome};
use crate::error::AppError;

/// Takes the outcome an upload left for `page`, if any (it is shown once).
pub async fn take_outcome(page: &str) -> Option<UploadOutcome> {
    let session = crate::ssr::session().ok()?;
    let outcome: UploadOutcome = session.get(OUTCOME_KEY).await.ok().flatten()?;
    if outcome.page != page {
        return None;
    }
    if let Err(e) = session.remove::<UploadOutcome>(OUTCOME_KEY).await {
        tracing::warn!(error = %e, "could not clear an upload outcome");
    }
    Some(outcome)
}

pub(super) async fn get_catalog_io() -> Result<CatalogIoPage, AppError> {
    let ctx = crate::ssr::server_context()?;
    crate::ssr::require_role(auth::Role::Admin).await?;
    let (products, variants) = catalog::products::list::counts(&ctx.db).await?;
    Ok(CatalogIoPage {
        products,
        variants,
        outcome: take_outcome("/admin/catalog").await,
    })
}
