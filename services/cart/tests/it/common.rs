//! What every cart test starts from: a database with three variants (a tee in S with 5 in
//! stock and M with 200, a sold-out pan).

use cart::Quantity;
use shop_core::{Clock, Db};
use shop_testkit::Scratch;

const CATALOG: &str = r#"{"sku":"TEE-S","name":"Fernhill Tee","slug":"fernhill-tee","description":"Organic cotton.","category":"Clothing > T-Shirts","price_minor":1500,"currency":"EUR","stock":5,"brand":"Fernhill","attributes":{},"options":{"size":"S"}}
{"sku":"TEE-M","name":"Fernhill Tee","slug":"fernhill-tee","description":"Organic cotton.","category":"Clothing > T-Shirts","price_minor":1700,"currency":"EUR","stock":200,"brand":"Fernhill","attributes":{},"options":{"size":"M"}}
{"sku":"PAN-1","name":"Cast Iron Pan","description":"A pan.","category":"Kitchen > Pans","price_minor":3000,"currency":"EUR","stock":0,"brand":"Nordhavn","attributes":{}}
"#;

/// A quantity the test knows is valid.
pub fn q(units: i64) -> Quantity {
    Quantity::new(units).expect("1 to 99")
}

/// A fresh database with [`CATALOG`] imported.
pub async fn setup() -> (Db, Clock, Scratch) {
    let (db, scratch) = shop_testkit::fresh_db().await;
    let clock = Clock::system();
    catalog::Catalog::new(db.clone(), clock.clone(), std::time::Duration::ZERO)
        .import_jsonl(&shop_core::audit::Actor::system("test"), CATALOG.as_bytes())
        .await
        .expect("import the test catalog");
    (db, clock, scratch)
}
