//! The shape of the code: no import circles among the files of any crate (a circle, layout
//! uses cart and cart uses layout, means neither file can be read, changed or tested without
//! the other; each crate is kept as layers where a file uses only files below it); no SQL in a
//! service that names another service's tables; and database rows read by name, never as
//! positional tuples.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, keyed by its module path (`shop::views`; `""` for the
/// crate root).
fn modules(dir: &Path) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read source folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(dir).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    parts.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    parts.pop();
                }
                found.insert(parts.join("::"), path);
            }
        }
    }
    found
}

/// The source without comments, string and character literals, and without the trailing
/// `#[cfg(test)] mod tests`: only code can use a module.
fn code(source: &str) -> String {
    let source = match source.find("#[cfg(test)]\nmod tests") {
        Some(i) => &source[..i],
        None => source,
    };
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let at = |i: usize, s: &str| {
        s.chars()
            .enumerate()
            .all(|(k, c)| chars.get(i + k) == Some(&c))
    };
    while i < chars.len() {
        if at(i, "//") {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if at(i, "/*") {
            while i < chars.len() && !at(i, "*/") {
                i += 1;
            }
            i += 2;
        } else if at(i, "r#\"") || at(i, "r\"") {
            let hashes = if chars[i + 1] == '#' { "\"#" } else { "\"" };
            i += hashes.len() + 1;
            while i < chars.len() && !at(i, hashes) {
                i += 1;
            }
            i += hashes.len();
            out.push_str("\"\"");
        } else if chars[i] == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if chars[i] == '\'' && (at(i + 2, "'") || at(i + 1, "\\")) {
            // A character literal ('"', '\n', '\''); a lifetime has no closing quote.
            i += if chars[i + 1] == '\\' { 3 } else { 2 };
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The paths `text` (just after `crate::` or `super::`) names: `a::b`, or each item of a
/// group `{a::b, c::{d, e}}`.
fn paths_at(text: &str) -> Vec<String> {
    let mut path = String::new();
    let mut rest = text;
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut end = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            let inner = &group[..end];
            let mut items = Vec::new();
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(&inner[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            items.push(&inner[start..]);
            return items
                .into_iter()
                .map(str::trim)
                .filter(|i| !i.is_empty() && *i != "self")
                .flat_map(paths_at)
                .map(|p| format!("{path}{p}"))
                .collect();
        }
        let ident: String = rest.chars().take_while(|c| is_ident(*c)).collect();
        if ident.is_empty() {
            return vec![path.trim_end_matches("::").to_owned()];
        }
        path.push_str(&ident);
        rest = &rest[ident.len()..];
        match rest.strip_prefix("::") {
            Some(after) => {
                path.push_str("::");
                rest = after;
            }
            None => return vec![path],
        }
    }
}

/// The longest module path that `path` starts with.
fn resolve<'a>(modules: &'a BTreeMap<String, PathBuf>, path: &str) -> Option<&'a str> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find_map(|m| modules.get_key_value(&m).map(|(k, _)| k.as_str()))
}

/// Which modules each module uses (leaving out its own ancestors, which declare it).
fn uses(modules: &BTreeMap<String, PathBuf>) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges = BTreeMap::new();
    for (module, file) in modules {
        let source = code(&std::fs::read_to_string(file).expect("read source"));
        let parent: Vec<&str> = module.split("::").filter(|s| !s.is_empty()).collect();
        let parent = parent[..parent.len().saturating_sub(1)].join("::");
        let mut targets = BTreeSet::new();
        for (keyword, base) in [("crate::", String::new()), ("super::", parent)] {
            for (i, _) in source.match_indices(keyword) {
                if source[..i].chars().next_back().is_some_and(is_ident) {
                    continue;
                }
                for mut path in paths_at(&source[i + keyword.len()..]) {
                    // `super::super::x`: one level up per `super`.
                    let mut base: Vec<&str> = base.split("::").filter(|s| !s.is_empty()).collect();
                    while let Some(rest) = path.strip_prefix("super::") {
                        base.pop();
                        path = rest.to_owned();
                    }
                    let full = if base.is_empty() {
                        path
                    } else {
                        format!("{}::{path}", base.join("::"))
                    };
                    if let Some(target) = resolve(modules, &full)
                        && !target.is_empty()
                        && target != module
                        && !module.starts_with(&format!("{target}::"))
                    {
                        targets.insert(target.to_owned());
                    }
                }
            }
        }
        edges.insert(module.clone(), targets);
    }
    edges
}

/// The groups of two or more modules that reach each other (Tarjan's algorithm).
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        for w in &s.edges[v] {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.stack.contains(&w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                group.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.found.push(group);
            }
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.found
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

#[test]
fn the_checker_finds_a_circle_through_use_groups_and_super() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    };
    write("lib.rs", "mod a; mod b; mod c;");
    write("a.rs", "use crate::{b::X, c};");
    write("b/mod.rs", "mod inner;");
    write(
        "b/inner.rs",
        "use super::super::c::Y; // crate::a in a comment is no use\nconst S: &str = \"crate::a\";",
    );
    write("c.rs", "fn f() { crate::a::g(); }");
    let found = modules(dir.path());
    let edges = uses(&found);
    assert_eq!(edges["b::inner"], BTreeSet::from(["c".to_owned()]));
    assert_eq!(circles(&edges), vec![vec!["a".to_owned(), "c".to_owned()]]);
    write("c.rs", "fn f() {}");
    assert!(circles(&uses(&modules(dir.path()))).is_empty());
}

#[test]
fn no_crate_has_an_import_circle() {
    let root = workspace();
    let mut crates = vec![root.join("app/src"), root.join("server/src")];
    for entry in std::fs::read_dir(root.join("services")).unwrap() {
        crates.push(entry.unwrap().path().join("src"));
    }
    let mut report = Vec::new();
    for dir in crates {
        let found = modules(&dir);
        assert!(!found.is_empty(), "no sources in {}", dir.display());
        for circle in circles(&uses(&found)) {
            report.push(format!("{}: {}", dir.display(), circle.join(" ↔ ")));
        }
    }
    assert!(report.is_empty(), "import circles:\n{}", report.join("\n"));
}

/// The tables each crate owns. Another crate reaches them only through the owner's functions.
const TABLES: &[(&str, &[&str])] = &[
    (
        "core",
        &["audit_log", "job_leases", "outbox_events", "server_secrets"],
    ),
    (
        "auth",
        &[
            "addresses",
            "api_keys",
            "api_refresh_tokens",
            "api_sessions",
            "login_failures",
            "rate_limits",
            "sessions",
            "user_roles",
            "user_tokens",
            "users",
        ],
    ),
    (
        "catalog",
        &[
            "categories",
            "product_categories",
            "product_facets",
            "product_images",
            "product_search_ids",
            "product_variants",
            "products",
            "products_fts",
            "stock_adjustments",
        ],
    ),
    ("cart", &["cart_lines", "carts"]),
    (
        "checkout",
        &[
            "checkout_attempts",
            "offline_payment_sessions",
            "order_events",
            "order_lines",
            "order_numbers",
            "orders",
            "payment_events",
            "shipping_methods",
        ],
    ),
    (
        "notifications",
        &[
            "newsletter_subscribers",
            "webhook_deliveries",
            "webhook_endpoints",
        ],
    ),
    (
        "analytics",
        &[
            "analytics_abandoned_carts",
            "analytics_daily",
            "analytics_daily_products",
            "analytics_daily_sales",
            "analytics_daily_searches",
            "analytics_days",
            "analytics_events",
            "analytics_monthly_products",
            "analytics_reminder_optouts",
            "analytics_salts",
        ],
    ),
];

/// The string literals of a source file that read like SQL (`SELECT`, `INSERT INTO`, ...).
fn sql_literals(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let mut end = None;
        let mut escaped = false;
        for (i, c) in after.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    end = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        let Some(end) = end else { break };
        let literal = &after[..end];
        let upper = literal.to_uppercase();
        if [
            "SELECT ",
            "INSERT INTO",
            "UPDATE ",
            "DELETE FROM",
            " JOIN ",
            "FROM ",
        ]
        .iter()
        .any(|k| upper.contains(k))
        {
            out.push(literal.to_owned());
        }
        rest = &after[end + 1..];
    }
    out
}

/// The other crates' tables named in `source`'s SQL, as `(table, owner)`.
fn foreign_tables(crate_name: &str, source: &str) -> Vec<(String, &'static str)> {
    let mut found = Vec::new();
    for sql in sql_literals(source) {
        let words: BTreeSet<&str> = sql
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .collect();
        for (owner, tables) in TABLES {
            if *owner == crate_name {
                continue;
            }
            for table in *tables {
                if words.contains(table) {
                    found.push(((*table).to_owned(), *owner));
                }
            }
        }
    }
    found
}

#[test]
fn the_sql_checker_finds_another_services_table() {
    let source = r#"
        // users in a comment is no SQL
        const MESSAGE: &str = "Tell the users.";
        fn q() { sqlx::query("SELECT p.name, u.email FROM products p JOIN users u ON u.id = p.vendor_id"); }
    "#;
    assert_eq!(
        foreign_tables("catalog", source),
        vec![("users".to_owned(), "auth")]
    );
    assert!(foreign_tables("auth", "fn q() { query(\"SELECT id FROM users\") }").is_empty());
}

#[test]
fn no_service_names_another_services_tables_in_sql() {
    let root = workspace();
    let mut report = Vec::new();
    for (owner, _) in TABLES {
        for path in modules(&root.join("services").join(owner).join("src")).values() {
            let source = std::fs::read_to_string(path).unwrap();
            for (table, other) in foreign_tables(owner, &source) {
                report.push(format!("{}: `{table}` belongs to {other}", path.display()));
            }
        }
    }
    assert!(
        report.is_empty(),
        "SQL across a service boundary:\n{}",
        report.join("\n")
    );
}

/// Lines of `source` that read a row by position: `try_get(0)` or a tuple as the target of
/// `query_as`.
fn positional_rows(source: &str) -> Vec<String> {
    let code = code(source);
    let mut found = Vec::new();
    let squeezed: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
    for (i, _) in squeezed.match_indices("try_get(") {
        let arg = &squeezed[i + "try_get(".len()..];
        if arg.starts_with(|c: char| c.is_ascii_digit()) {
            found.push(format!(
                "try_get({}",
                &arg[..arg.find(')').unwrap_or(0) + 1]
            ));
        }
    }
    for (i, _) in squeezed.match_indices("= sqlx::query_as") {
        // The type annotation before `=`: `let x: (A, B)`, `Vec<(A, B)>`, `Option<(A, B)>`.
        let before = &squeezed[..i];
        let annotation = before.rsplit(": ").next().unwrap_or_default().trim();
        let inner = annotation
            .trim_start_matches("Vec<")
            .trim_start_matches("Option<");
        if inner.starts_with('(') {
            found.push(format!("{annotation} = sqlx::query_as"));
        }
    }
    for (i, _) in squeezed.match_indices("query_as::<_, (") {
        found.push(squeezed[i..].chars().take(40).collect());
    }
    found
}

#[test]
fn the_row_checker_finds_tuples_and_positions() {
    let source = "fn f() { let (a, b): (i64, i64) = sqlx::query_as(\"SELECT 1, 2\"); \
                  let r: Vec<(String,\n i64)> = sqlx::query_as(\"\"); let x = row.try_get(3); \
                  let ok: Vec<Row> = sqlx::query_as(\"\"); let named = row.try_get(\"id\"); }";
    assert_eq!(
        positional_rows(source).len(),
        3,
        "{:?}",
        positional_rows(source)
    );
    assert!(positional_rows("let ok: Option<Row> = sqlx::query_as(q);").is_empty());
}

#[test]
fn services_read_rows_by_name() {
    let root = workspace();
    let mut report = Vec::new();
    for entry in std::fs::read_dir(root.join("services")).unwrap() {
        for path in modules(&entry.unwrap().path().join("src")).values() {
            let source = std::fs::read_to_string(path).unwrap();
            for found in positional_rows(&source) {
                report.push(format!("{}: {found}", path.display()));
            }
        }
    }
    assert!(
        report.is_empty(),
        "rows read by position:\n{}",
        report.join("\n")
    );
}
