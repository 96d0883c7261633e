//! Where image files live: `<data>/images/<hash>-<width>.jpg`, written whole or not at all.

use std::path::{Path, PathBuf};

use super::WIDTHS;
use super::processing::Processed;

/// Where image files live: `<data>/images`.
#[derive(Clone, Debug)]
pub struct ImageStore {
    dir: PathBuf,
}

impl ImageStore {
    pub fn new(dir: impl Into<PathBuf>) -> ImageStore {
        ImageStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, hash: &str, width: u32) -> PathBuf {
        self.dir.join(format!("{hash}-{width}.jpg"))
    }

    /// Writes each file unless it is already there (same hash, same bytes). Each file is
    /// written under a temporary name and renamed, so a reader never sees half a file.
    pub(crate) async fn save(&self, processed: &Processed) -> std::io::Result<()> {
        tokio::fs::create_dir_all(&self.dir).await?;
        for (width, bytes) in &processed.files {
            let path = self.path(&processed.hash, *width);
            if tokio::fs::try_exists(&path).await.unwrap_or(false) {
                continue;
            }
            let tmp = self.dir.join(format!(
                ".{}-{width}.{}.tmp",
                processed.hash,
                shop_core::id::new_uuid_v7()
            ));
            tokio::fs::write(&tmp, bytes).await?;
            tokio::fs::rename(&tmp, &path).await?;
        }
        Ok(())
    }

    pub(crate) async fn remove(&self, hash: &str) {
        for width in WIDTHS {
            let path = self.path(hash, width);
            if let Err(e) = tokio::fs::remove_file(&path).await
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(path = %path.display(), error = %e, "could not remove an image file");
            }
        }
    }
}
