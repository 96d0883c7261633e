//! Product images in an S3-compatible bucket (`S3_BUCKET`), against a local S3 server
//! (PyPI's `moto[server]`, installed by `scripts/bootstrap.sh --test`): uploads land in the
//! bucket and not on disk, every instance serves them at the same content-hashed URLs with a
//! year's caching, deleting an image deletes its files, and a bucket that cannot be reached
//! is a clear 503 for an image and a refused upload, never a 500.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::api::{api, client, send};
use crate::api_admin::admin_token;
use crate::common::{TestApp, TestOptions};

const CATALOG: &str = r#"{"sku":"LAMP-1","name":"Harbour Lamp","slug":"harbour-lamp","description":"Brass.","category":"Home > Lighting","price_minor":8900,"currency":"EUR","stock":5,"brand":"Nordhavn","attributes":{}}
"#;

/// A local S3 server, stopped when dropped.
struct S3Server {
    child: Child,
    url: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `moto_server` on PATH or where the bootstrap puts it.
fn moto_server() -> Option<std::path::PathBuf> {
    let home = std::env::var("HOME").unwrap_or_default();
    let installed = std::path::Path::new(&home).join(".cache/shop-tools/moto/bin/moto_server");
    if installed.exists() {
        return Some(installed);
    }
    std::env::var("PATH").ok().and_then(|path| {
        path.split(':')
            .map(|dir| std::path::Path::new(dir).join("moto_server"))
            .find(|p| p.exists())
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl S3Server {
    /// Starts the server with an empty `bucket`; `None` when moto is not installed
    /// (outside CI: the test is skipped with a note).
    async fn start(bucket: &str) -> Option<S3Server> {
        let Some(bin) = moto_server() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "moto_server is missing: scripts/bootstrap.sh --test installs it"
            );
            eprintln!("skipped: moto_server is not installed (scripts/bootstrap.sh --test)");
            return None;
        };
        let port = free_port();
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let server = S3Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        loop {
            if let Ok(res) = reqwest::Client::new()
                .put(format!("{}/{bucket}", server.url))
                .send()
                .await
            {
                assert!(res.status().is_success(), "create bucket: {}", res.status());
                return Some(server);
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto_server did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The names of the objects under `prefix` (ListObjectsV2).
    async fn list(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let xml = reqwest::get(format!("{}/{bucket}?list-type=2&prefix={prefix}", self.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        xml.split("<Key>")
            .skip(1)
            .filter_map(|part| part.split("</Key>").next())
            .map(str::to_owned)
            .collect()
    }
}

fn bucket_env(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("S3_BUCKET", "shop-images".to_owned()),
        ("S3_ENDPOINT", url.to_owned()),
        ("S3_ACCESS_KEY_ID", "testing".to_owned()),
        ("S3_SECRET_ACCESS_KEY", "testing-secret".to_owned()),
        ("S3_PREFIX", "harbour/images".to_owned()),
    ]
}

#[tokio::test]
async fn images_live_in_the_bucket_and_every_instance_serves_them() {
    let Some(s3) = S3Server::start("shop-images").await else {
        return;
    };
    let env = bucket_env(&s3.url);
    let a = TestApp::with_catalog(
        TestOptions {
            env: env.clone(),
            ..TestOptions::default()
        },
        CATALOG,
    )
    .await;
    let mut env_b = env.clone();
    env_b.push(("DATABASE_URL", a.config.database_url.expose().to_owned()));
    let b = TestApp::spawn_with(TestOptions {
        env: env_b,
        ..TestOptions::default()
    })
    .await;

    let (_, token) = admin_token(&a).await;
    let product = shop_testkit::product_id(&a.db, "harbour-lamp")
        .await
        .to_string();
    let upload = || {
        send(
            client()
                .post(api(
                    &a,
                    &format!("/admin/products/{product}/images?alt=Lamp"),
                ))
                .bearer_auth(&token)
                .header("content-type", "image/png")
                .body(shop::seed::picture::paint("Home & Kitchen", "Lamp", None)),
        )
    };
    let (status, _, body) = upload().await;
    assert_eq!(status, 201, "{body}");
    let image_id = body["images"][0]["id"].as_str().unwrap().to_owned();

    // Three widths in the bucket, under the prefix; nothing on local disk.
    let mut objects = s3.list("shop-images", "harbour/images/").await;
    objects.sort();
    assert_eq!(objects.len(), 3, "{objects:?}");
    assert!(!a.data_dir.path().join("images").exists());
    let hash: String = sqlx::query_scalar("SELECT hash FROM product_images WHERE product_id = $1")
        .bind(&product)
        .fetch_one(a.db.reader())
        .await
        .unwrap();
    for width in catalog::images::WIDTHS {
        let name = format!("harbour/images/{hash}-{width}.jpg");
        assert!(objects.contains(&name), "{name} in {objects:?}");
    }

    // The product page names the image by its hash; both instances serve the same bytes as
    // the bucket holds, cached for a year.
    let page = b.get("/p/harbour-lamp").await.text().await.unwrap();
    let url = format!("/images/{hash}-640.jpg");
    assert!(page.contains(&url), "{page}");
    let mut served = Vec::new();
    for app in [&a, &b] {
        let res = app.get(&url).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "image/jpeg");
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        served.push(res.bytes().await.unwrap());
    }
    assert!(served[0] == served[1], "both instances serve the same file");
    let decoded = image::load_from_memory(&served[0]).expect("a JPEG");
    assert_eq!(decoded.width(), 640);
    // Names that are not image files are not looked up.
    for path in [
        "/images/..%2F..%2Fetc%2Fpasswd",
        "/images/.hidden",
        &format!("/images/{hash}-999.jpg"),
        "/images/0123456789abcdef0123456789abcdef-640.jpg",
    ] {
        let res = a.get(path).await;
        assert_eq!(res.status(), 404, "{path}");
    }

    // Deleting the image deletes its files.
    let (status, _, _) = send(
        client()
            .delete(api(&a, &format!("/admin/images/{image_id}")))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        s3.list("shop-images", "harbour/images/").await,
        Vec::<String>::new()
    );
    assert_eq!(b.get(&url).await.status(), 404);

    // The storage goes away: an image is a 503 with Retry-After, an upload is refused with
    // a clear message, nothing is half-written, and the pages still render.
    drop(s3);
    let res = a.get(&url).await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "5");
    let (status, _, body) = upload().await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("could not be stored"), "{body}");
    let images: i64 = shop_testkit::count(&a.db, "SELECT COUNT(*) FROM product_images").await;
    assert_eq!(images, 0);
    assert_eq!(b.get("/p/harbour-lamp").await.status(), 200);
}
