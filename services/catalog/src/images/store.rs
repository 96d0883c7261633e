//! Where image files live: `<data>/images/<hash>-<width>.jpg` on local disk (the default),
//! or the same names in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2...) so that every
//! instance of a cluster reads and writes one set of files. Either way a file is written
//! whole or not at all, and its name (a hash of the upload) never changes meaning.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload};

use super::WIDTHS;
use super::processing::Processed;

/// An S3-compatible bucket to keep images in. (No `Debug`: it holds the secret key.)
#[derive(Clone)]
pub struct BucketConfig {
    pub bucket: String,
    /// Leave out for AWS itself; e.g. `http://127.0.0.1:9000` for MinIO.
    pub endpoint: Option<String>,
    pub region: String,
    /// Key pair; without it, the AWS credential chain (environment, instance role).
    pub access_key: Option<(String, String)>,
    /// Where in the bucket, e.g. `shop/images` (no slashes at either end).
    pub prefix: String,
}

/// Where image files live.
#[derive(Clone, Debug)]
pub struct ImageStore {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Local(PathBuf),
    Bucket {
        store: Arc<dyn ObjectStore>,
        prefix: String,
        /// For messages: `s3://bucket/prefix`.
        name: String,
    },
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kind::Local(dir) => f.debug_tuple("Local").field(dir).finish(),
            Kind::Bucket { name, .. } => f.debug_tuple("Bucket").field(name).finish(),
        }
    }
}

/// Whether `name` is one the store writes: `<hex hash>-<width>.jpg`. Anything else (a path,
/// a dotfile, a temporary file) is never read.
fn is_image_name(name: &str) -> bool {
    let Some((hash, rest)) = name.split_once('-') else {
        return false;
    };
    let Some(width) = rest.strip_suffix(".jpg") else {
        return false;
    };
    (8..=64).contains(&hash.len())
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && WIDTHS.iter().any(|w| w.to_string() == width)
}

impl ImageStore {
    /// Files in a folder on local disk.
    pub fn new(dir: impl Into<PathBuf>) -> ImageStore {
        ImageStore {
            kind: Kind::Local(dir.into()),
        }
    }

    /// Files in an S3-compatible bucket. Nothing is sent until the first file is read or
    /// written.
    pub fn bucket(config: &BucketConfig) -> Result<ImageStore, String> {
        // From the environment first (AWS_* variables, web identity, container and instance
        // credentials: the AWS credential chain), then this shop's own settings over it.
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            // A request that fails is retried a few times, briefly: an upload or a page's
            // image waits seconds at most, never minutes.
            .with_retry(object_store::RetryConfig {
                backoff: object_store::BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(2),
                    base: 2.0,
                },
                max_retries: 3,
                retry_timeout: Duration::from_secs(15),
            });
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                // Servers other than AWS take the bucket in the path.
                .with_virtual_hosted_style_request(false);
        }
        if let Some((id, secret)) = &config.access_key {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
        }
        let store = builder.build().map_err(|e| e.to_string())?;
        let prefix = config.prefix.trim_matches('/').to_owned();
        Ok(ImageStore {
            kind: Kind::Bucket {
                store: Arc::new(store),
                name: format!("s3://{}/{prefix}", config.bucket),
                prefix,
            },
        })
    }

    /// The local folder, when files are on local disk.
    pub fn dir(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Local(dir) => Some(dir),
            Kind::Bucket { .. } => None,
        }
    }

    /// Where the files are, for messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Local(dir) => dir.display().to_string(),
            Kind::Bucket { name, .. } => name.clone(),
        }
    }

    fn file_name(hash: &str, width: u32) -> String {
        format!("{hash}-{width}.jpg")
    }

    fn object(prefix: &str, name: &str) -> object_store::path::Path {
        if prefix.is_empty() {
            object_store::path::Path::from(name)
        } else {
            object_store::path::Path::from(format!("{prefix}/{name}"))
        }
    }

    /// Writes each file unless it is already there (same hash, same bytes). On disk each
    /// file is written under a temporary name and renamed; in a bucket a put is atomic. So
    /// a reader never sees half a file.
    pub(crate) async fn save(&self, processed: &Processed) -> std::io::Result<()> {
        match &self.kind {
            Kind::Local(dir) => {
                tokio::fs::create_dir_all(dir).await?;
                for (width, bytes) in &processed.files {
                    let path = dir.join(Self::file_name(&processed.hash, *width));
                    if tokio::fs::try_exists(&path).await.unwrap_or(false) {
                        continue;
                    }
                    let tmp = dir.join(format!(
                        ".{}-{width}.{}.tmp",
                        processed.hash,
                        shop_core::id::new_uuid_v7()
                    ));
                    tokio::fs::write(&tmp, bytes).await?;
                    tokio::fs::rename(&tmp, &path).await?;
                }
            }
            Kind::Bucket { store, prefix, .. } => {
                for (width, bytes) in &processed.files {
                    let object = Self::object(prefix, &Self::file_name(&processed.hash, *width));
                    if store.head(&object).await.is_ok() {
                        continue;
                    }
                    store
                        .put(&object, PutPayload::from(Bytes::from(bytes.clone())))
                        .await
                        .map_err(std::io::Error::from)?;
                }
            }
        }
        Ok(())
    }

    /// Reads the file `name` (`<hash>-<width>.jpg`): `None` when there is no such file.
    pub async fn read(&self, name: &str) -> std::io::Result<Option<Bytes>> {
        if !is_image_name(name) {
            return Ok(None);
        }
        let read = match &self.kind {
            Kind::Local(dir) => tokio::fs::read(dir.join(name)).await.map(Bytes::from),
            Kind::Bucket { store, prefix, .. } => {
                match store.get(&Self::object(prefix, name)).await {
                    Ok(got) => got.bytes().await.map_err(std::io::Error::from),
                    Err(e) => Err(std::io::Error::from(e)),
                }
            }
        };
        match read {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn remove(&self, hash: &str) {
        for width in WIDTHS {
            let name = Self::file_name(hash, width);
            let removed = match &self.kind {
                Kind::Local(dir) => tokio::fs::remove_file(dir.join(&name)).await,
                Kind::Bucket { store, prefix, .. } => store
                    .delete(&Self::object(prefix, &name))
                    .await
                    .map_err(std::io::Error::from),
            };
            if let Err(e) = removed
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(file = %name, store = %self.describe(), error = %e, "could not remove an image file");
            }
        }
    }
}
