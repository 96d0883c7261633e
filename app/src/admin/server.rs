//! The server side the admin pages share: audit entries turned into rows (with what changed,
//! field by field), the page number a list was asked for, and the page size of the users
//! list and the audit log.

use super::AuditRow;

pub(crate) const PER_PAGE: u32 = 25;

pub(crate) fn audit_row(e: shop_core::audit::Entry) -> AuditRow {
    let target_href = match e.target_type.as_str() {
        "user" => Some(format!("/admin/users/{}", e.target_id)),
        "product" => Some(format!("/admin/products/{}", e.target_id)),
        "category" => Some(format!("/admin/categories/{}", e.target_id)),
        "shipping_method" => Some(format!("/admin/shipping/{}", e.target_id)),
        "api_key" => Some("/admin/api-keys".to_owned()),
        "webhook" => Some(format!("/admin/webhooks/{}", e.target_id)),
        _ => None,
    };
    let parse = |json: &Option<String>| {
        json.as_deref()
            .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
    };
    let (before, after) = (parse(&e.before), parse(&e.after));
    // Name the target by what people call it; the id only when the entry has no name.
    let name = [&after, &before].into_iter().flatten().find_map(|v| {
        ["name", "email", "sku", "slug"]
            .iter()
            .find_map(|k| v.get(*k).and_then(|n| n.as_str()).map(str::to_owned))
    });
    let short_id: String = e.target_id.chars().take(8).collect();
    AuditRow {
        when: e.created_at.to_human(),
        actor: e.actor_label,
        target_href,
        target: match name {
            Some(name) => format!("{} {name}", e.target_type),
            None => format!("{} {short_id}…", e.target_type),
        },
        action: e.action,
        changes: describe_changes(before.as_ref(), after.as_ref()),
    }
}

/// One line per field that differs between two audit snapshots, values cut short.
fn describe_changes(
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Vec<String> {
    fn show(v: Option<&serde_json::Value>) -> String {
        let text = match v {
            None | Some(serde_json::Value::Null) => "—".to_owned(),
            Some(serde_json::Value::String(s)) if s.is_empty() => "(empty)".to_owned(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        let mut cut: String = text.chars().take(60).collect();
        if cut.len() < text.len() {
            cut.push('…');
        }
        cut
    }
    let empty = serde_json::Map::new();
    match (
        before.and_then(serde_json::Value::as_object),
        after.and_then(serde_json::Value::as_object),
    ) {
        (None, None) => Vec::new(),
        (b, a) => {
            let (b, a) = (b.unwrap_or(&empty), a.unwrap_or(&empty));
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| a.get(*k) != b.get(*k))
                .map(|k| {
                    let label = k.replace('_', " ");
                    match (b.get(k), a.get(k)) {
                        (None, new) => format!("{label}: {}", show(new)),
                        (old, None) => format!("{label}: {} (removed)", show(old)),
                        (old, new) => format!("{label}: {} → {}", show(old), show(new)),
                    }
                })
                .collect()
        }
    }
}

/// The page number a list was asked for: anything but a whole number from 1 to 100,000 (a
/// hand-edited or stale link) shows the first page.
pub(crate) fn page_number(page: Option<&str>) -> u32 {
    page.and_then(|p| p.trim().parse::<u32>().ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1)
}
