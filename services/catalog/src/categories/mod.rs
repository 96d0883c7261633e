//! The category tree, read as a whole and cached in memory: it is small (dozens to a few
//! hundred nodes), every page's navigation needs it, and it changes rarely.
//!
//! The cache refreshes itself after [`TREE_TTL`] so that an instance sees changes made by
//! another instance within that time, and is dropped at once when this instance changes the
//! catalog. A refresh runs in the background while requests keep using the previous tree.
//! Creating, changing and deleting categories is in [`edit`].

pub mod edit;

pub use edit::CategoryInput;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use shop_core::Db;

use crate::CategoryId;

/// How long a loaded tree is used before it is read again.
pub const TREE_TTL: Duration = Duration::from_secs(30);

/// One category.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub position: i64,
    /// Active products in this category and every category below it, each counted once.
    pub product_count: i64,
}

/// Every category, with parent/child links and product counts.
#[derive(Clone, Debug, Default)]
pub struct CategoryTree {
    nodes: Vec<Category>,
    children: Vec<Vec<usize>>,
    roots: Vec<usize>,
    by_id: HashMap<String, usize>,
    by_slug: HashMap<String, usize>,
}

/// A category as the `categories` table holds it.
#[derive(sqlx::FromRow)]
struct CategoryRow {
    id: String,
    parent_id: Option<String>,
    name: String,
    slug: String,
    description: String,
    position: i64,
}

/// A category and how many active products have it as their primary category.
#[derive(sqlx::FromRow)]
struct PrimaryCount {
    category_id: String,
    count: i64,
}

/// An active product's further category, with the product's primary category.
#[derive(sqlx::FromRow)]
struct SecondaryPlacement {
    product_id: String,
    primary_id: String,
    category_id: String,
}

impl CategoryTree {
    /// Reads the tree and its product counts.
    pub async fn load(db: &Db) -> Result<CategoryTree, sqlx::Error> {
        let rows: Vec<CategoryRow> = sqlx::query_as(
            "SELECT id, parent_id, name, slug, description, position FROM categories
             ORDER BY position, name",
        )
        .fetch_all(db.reader())
        .await?;
        // Active products per primary category: one pass over an index, not a row per
        // product brought back (the catalog may hold hundreds of thousands).
        let primary: Vec<PrimaryCount> = sqlx::query_as(
            "SELECT category_id, COUNT(*) AS count FROM products WHERE status = 'active'
             GROUP BY category_id",
        )
        .fetch_all(db.reader())
        .await?;
        // Secondary placements are few: each with its product's primary category.
        let secondary: Vec<SecondaryPlacement> = sqlx::query_as(
            "SELECT pc.product_id, p.category_id AS primary_id, pc.category_id
             FROM product_categories pc
             JOIN products p ON p.id = pc.product_id WHERE p.status = 'active'
             ORDER BY pc.product_id",
        )
        .fetch_all(db.reader())
        .await?;
        let mut tree = CategoryTree::from_rows(rows);
        tree.count_products(&primary, &secondary);
        Ok(tree)
    }

    /// The tree of `rows`, without counts.
    fn from_rows(rows: Vec<CategoryRow>) -> Self {
        let mut tree = CategoryTree::default();
        for CategoryRow {
            id,
            parent_id: parent,
            name,
            slug,
            description,
            position,
        } in rows
        {
            let index = tree.nodes.len();
            tree.by_id.insert(id.clone(), index);
            tree.by_slug.insert(slug.clone(), index);
            tree.nodes.push(Category {
                id: CategoryId::from_db(id),
                parent_id: parent.map(CategoryId::from_db),
                name,
                slug,
                description,
                position,
                product_count: 0,
            });
        }
        tree.children = vec![Vec::new(); tree.nodes.len()];
        for index in 0..tree.nodes.len() {
            match tree.nodes[index]
                .parent_id
                .as_ref()
                .and_then(|p| tree.by_id.get(p.as_str()).copied())
            {
                Some(parent) => tree.children[parent].push(index),
                None => tree.roots.push(index),
            }
        }
        tree
    }

    /// Sets each category's product count: every product below it once, however many of its
    /// categories sit below it. `primary` holds each category's count of active products
    /// whose primary category it is; `secondary` each further category a product appears in
    /// (with the product's primary category), grouped by product.
    fn count_products(&mut self, primary: &[PrimaryCount], secondary: &[SecondaryPlacement]) {
        let mut counts = vec![0_i64; self.nodes.len()];
        for PrimaryCount { category_id, count } in primary {
            if let Some(&index) = self.by_id.get(category_id.as_str()) {
                for ancestor in self.ancestry(index) {
                    counts[ancestor] += count;
                }
            }
        }
        // A product also counts under the ancestors of its other categories that are not
        // already ancestors of its primary one.
        for placements in secondary.chunk_by(|a, b| a.product_id == b.product_id) {
            let counted: Vec<usize> = self
                .by_id
                .get(placements[0].primary_id.as_str())
                .map(|&i| self.ancestry(i))
                .unwrap_or_default();
            let mut added: Vec<usize> = Vec::new();
            for SecondaryPlacement { category_id, .. } in placements {
                let Some(&index) = self.by_id.get(category_id.as_str()) else {
                    continue;
                };
                for ancestor in self.ancestry(index) {
                    if !counted.contains(&ancestor) && !added.contains(&ancestor) {
                        added.push(ancestor);
                        counts[ancestor] += 1;
                    }
                }
            }
        }
        for (node, count) in self.nodes.iter_mut().zip(counts) {
            node.product_count = count;
        }
    }

    /// `index` and its ancestors (guarded against cycles).
    fn ancestry(&self, index: usize) -> Vec<usize> {
        let mut out = vec![index];
        let mut current = index;
        while let Some(parent) = self.nodes[current]
            .parent_id
            .as_ref()
            .and_then(|p| self.by_id.get(p.as_str()).copied())
        {
            if out.contains(&parent) || out.len() > 32 {
                break;
            }
            out.push(parent);
            current = parent;
        }
        out
    }

    /// Top-level categories in display order.
    pub fn roots(&self) -> Vec<&Category> {
        self.roots.iter().map(|&i| &self.nodes[i]).collect()
    }

    /// Every category.
    pub fn all(&self) -> &[Category] {
        &self.nodes
    }

    pub fn by_slug(&self, slug: &str) -> Option<&Category> {
        self.by_slug.get(slug).map(|&i| &self.nodes[i])
    }

    pub fn get(&self, id: &CategoryId) -> Option<&Category> {
        self.by_id.get(id.as_str()).map(|&i| &self.nodes[i])
    }

    /// Direct children in display order.
    pub fn children(&self, id: &CategoryId) -> Vec<&Category> {
        self.by_id
            .get(id.as_str())
            .map(|&i| self.children[i].iter().map(|&c| &self.nodes[c]).collect())
            .unwrap_or_default()
    }

    /// From the top-level category down to `id` (for breadcrumbs).
    pub fn path(&self, id: &CategoryId) -> Vec<&Category> {
        let Some(&index) = self.by_id.get(id.as_str()) else {
            return Vec::new();
        };
        let mut path: Vec<&Category> = self
            .ancestry(index)
            .into_iter()
            .map(|i| &self.nodes[i])
            .collect();
        path.reverse();
        path
    }

    /// `id` and every category below it.
    pub fn subtree_ids(&self, id: &CategoryId) -> Vec<String> {
        let Some(&start) = self.by_id.get(id.as_str()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut stack = vec![start];
        while let Some(index) = stack.pop() {
            if out.len() > self.nodes.len() {
                break;
            }
            out.push(self.nodes[index].id.as_str().to_owned());
            stack.extend(self.children[index].iter().copied());
        }
        out
    }

    /// Whether `candidate` is `id` or sits below it (re-parenting must not make a cycle).
    pub fn is_within(&self, candidate: &CategoryId, id: &CategoryId) -> bool {
        self.by_id
            .get(candidate.as_str())
            .is_some_and(|&c| self.ancestry(c).iter().any(|&a| self.nodes[a].id == *id))
    }
}

/// A loaded tree and when it was loaded.
type Slot = Option<(Instant, Arc<CategoryTree>)>;

/// The cached tree. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub(crate) struct TreeCache {
    slot: Arc<RwLock<Slot>>,
    refreshing: Arc<tokio::sync::Mutex<()>>,
    /// Bumped by [`TreeCache::invalidate`]: a reload that started before a change does not
    /// store what it read.
    generation: Arc<AtomicU64>,
}

impl TreeCache {
    /// The tree. A stale tree is returned at once while one background task reloads it, so
    /// no shopper's request waits for the reload; only the very first load is waited for.
    pub(crate) async fn get(&self, db: &Db) -> Result<Arc<CategoryTree>, sqlx::Error> {
        if let Some((loaded, tree)) = self.current() {
            if loaded.elapsed() >= TREE_TTL
                && let Ok(guard) = self.refreshing.clone().try_lock_owned()
            {
                let (cache, db) = (self.clone(), db.clone());
                tokio::spawn(async move {
                    let _guard = guard;
                    if let Err(e) = cache.reload(&db).await {
                        tracing::warn!(error = %e, "could not reload the category tree");
                    }
                });
            }
            return Ok(tree);
        }
        let _guard = self.refreshing.lock().await;
        match self.current() {
            Some((_, tree)) => Ok(tree),
            None => self.reload(db).await,
        }
    }

    async fn reload(&self, db: &Db) -> Result<Arc<CategoryTree>, sqlx::Error> {
        let generation = self.generation.load(Ordering::SeqCst);
        let tree = Arc::new(CategoryTree::load(db).await?);
        if let Ok(mut slot) = self.slot.write()
            && self.generation.load(Ordering::SeqCst) == generation
        {
            *slot = Some((Instant::now(), tree.clone()));
        }
        Ok(tree)
    }

    fn current(&self) -> Slot {
        self.slot.read().ok().and_then(|s| s.clone())
    }

    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut slot) = self.slot.write() {
            *slot = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, parent: Option<&str>) -> CategoryRow {
        CategoryRow {
            id: id.into(),
            parent_id: parent.map(Into::into),
            name: id.into(),
            slug: id.into(),
            description: String::new(),
            position: 0,
        }
    }

    #[test]
    fn counts_each_product_once_under_every_category_it_sits_below() {
        // a > b > c, a > d, e
        let mut tree = CategoryTree::from_rows(vec![
            row("a", None),
            row("b", Some("a")),
            row("c", Some("b")),
            row("d", Some("a")),
            row("e", None),
        ]);
        let primary_count = |category: &str, count: i64| PrimaryCount {
            category_id: category.to_owned(),
            count,
        };
        let primary = [
            primary_count("c", 3),
            primary_count("b", 1),
            primary_count("d", 2),
        ];
        let placement = |p: &str, primary: &str, other: &str| SecondaryPlacement {
            product_id: p.to_owned(),
            primary_id: primary.to_owned(),
            category_id: other.to_owned(),
        };
        let secondary = [
            // p1 (primary c) also in d and e: new under d and e, not again under a.
            placement("p1", "c", "d"),
            placement("p1", "c", "e"),
            // p2 (primary b) also in c: new under c only.
            placement("p2", "b", "c"),
            // p3 (primary d) also in c and in b: new under c and b, once each.
            placement("p3", "d", "c"),
            placement("p3", "d", "b"),
            // A placement in a category that is gone counts nowhere.
            placement("p4", "d", "gone"),
        ];
        tree.count_products(&primary, &secondary);
        let count = |id: &str| {
            tree.get(&CategoryId::from_db(id.to_owned()))
                .unwrap()
                .product_count
        };
        assert_eq!(count("a"), 6);
        assert_eq!(count("b"), 4 + 1);
        assert_eq!(count("c"), 3 + 2);
        assert_eq!(count("d"), 2 + 1);
        assert_eq!(count("e"), 1);
    }
}
