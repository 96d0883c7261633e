//! The admin API, under `/api/v1/admin`: the catalog (products, variants, stock, images,
//! categories), orders (ship, cancel, refund), customers and the analytics summary, for the
//! shop's staff and vendors, with the same roles and vendor scoping as the admin pages.
//!
//! A caller is a [`Staff`]: an admin's or a vendor's access token (every scope their roles
//! allow), or an API key (its scopes, within what its owner's roles allow now). Each
//! operation names the scope it needs; a customer's token, or a key without the scope, gets
//! 403. A vendor reaches only their own products and the orders holding them; anything else
//! is 404, as if it did not exist.

pub mod catalog;
pub mod orders;
pub mod reports;

use auth::api_keys::Scope;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use shop_core::audit::Actor;

use super::access::Credential;
use super::error::ApiError;
use crate::state::AppState;

/// A staff member or vendor calling the admin API.
#[derive(Debug, Clone)]
pub struct Staff {
    pub account: auth::Account,
    /// The key the call came with, if it came with one.
    pub key: Option<auth::api_keys::ApiKey>,
    /// What the call may do: the key's scopes (or every scope for a signed-in token), cut
    /// to what the account's roles allow now.
    pub scopes: Vec<Scope>,
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let staff = match parts.extensions.get::<Credential>() {
            Some(Credential::Key(holder)) => Staff {
                scopes: holder
                    .key
                    .scopes
                    .iter()
                    .copied()
                    .filter(|s| s.allowed_to(&holder.owner))
                    .collect(),
                account: holder.owner.clone(),
                key: Some(holder.key.clone()),
            },
            _ => {
                let caller = super::auth::Caller::from_request_parts(parts, state).await?;
                Staff {
                    scopes: Scope::all_allowed_to(&caller.account),
                    account: caller.account,
                    key: None,
                }
            }
        };
        if staff.scopes.is_empty() {
            tracing::warn!(user.id = %staff.account.id, "API: refused, not staff");
            return Err(ApiError::forbidden(
                "The admin API is for the shop's staff and vendors.",
            ));
        }
        Ok(staff)
    }
}

impl Staff {
    /// `Ok` when the call may use `scope`; 403 `insufficient_scope` otherwise.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!(
                    "This needs the {} scope, which {} does not have.",
                    scope.as_str(),
                    if self.key.is_some() {
                        "this API key"
                    } else {
                        "your account"
                    }
                ),
            ))
        }
    }

    pub fn is_admin(&self) -> bool {
        self.account.may_act_as(auth::Role::Admin)
    }

    /// Who the audit log and the order history name: the account, and the key when the
    /// call came with one.
    pub fn actor(&self) -> Actor {
        let label = match &self.key {
            Some(key) => auth::api_keys::actor_label(self.account.email.as_str(), key),
            None => format!("{} (API)", self.account.email.as_str()),
        };
        Actor::user(&self.account.id, &label)
    }

    /// The caller as a catalog editor, after checking `scope`: the whole catalog for an
    /// admin, their own products for a vendor.
    pub fn editor(&self, scope: Scope) -> Result<::catalog::Editor, ApiError> {
        self.require(scope)?;
        Ok(::catalog::Editor {
            actor: self.actor(),
            access: if self.is_admin() {
                ::catalog::Access::Shop
            } else {
                ::catalog::Access::Vendor(self.account.id.clone())
            },
        })
    }

    /// The caller as an order operator, after checking `scope`: staff, or a vendor who
    /// sees and ships only their own lines.
    pub fn operator(&self, scope: Scope) -> Result<checkout::fulfil::Operator, ApiError> {
        self.require(scope)?;
        Ok(if self.is_admin() {
            checkout::fulfil::Operator::Staff(self.actor())
        } else {
            checkout::fulfil::Operator::Vendor(self.actor())
        })
    }
}

/// A whole number of a page from 1 to 10,000 (1 when absent).
pub(super) fn page_of(page: Option<u32>) -> Result<u32, ApiError> {
    match page {
        None => Ok(1),
        Some(p) if (1..=10_000).contains(&p) => Ok(p),
        Some(_) => Err(ApiError::invalid("page", "Pages run from 1 to 10000.")),
    }
}

/// A page size from 1 to `max` (`default` when absent).
pub(super) fn per_page_of(per_page: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    match per_page {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid(
            "per_page",
            format!("Pages hold 1 to {max} items."),
        )),
    }
}

/// An id from a path: anything that is not an id is a thing that does not exist.
pub(super) fn id_of<T: std::str::FromStr>(raw: &str) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found("There is no such item."))
}

/// The query a list was asked with, without its page, for its `Link`s: the parameters given
/// and the page size.
pub(super) fn kept_query(
    given: &[(&'static str, Option<String>)],
    per_page: u32,
) -> Vec<(&'static str, String)> {
    given
        .iter()
        .filter_map(|(k, v)| v.clone().map(|v| (*k, v)))
        .chain([("per_page", per_page.to_string())])
        .collect()
}

/// Where a page sits in a list of `total` items.
pub(super) fn pagination(page: u32, per_page: u32, total: i64) -> crate::api::Pagination {
    let per_page = i64::from(per_page);
    crate::api::Pagination {
        page: i64::from(page),
        per_page,
        total,
        pages: (total + per_page - 1) / per_page,
    }
}
