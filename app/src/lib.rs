//! The Leptos application: every page of the shop, admin and analytics dashboards, and the
//! server functions behind them. Pages are rendered on the server (complete HTML, usable with
//! JavaScript off); only the interactive parts (islands) hydrate in the browser.
#![recursion_limit = "256"]

pub mod account;
pub mod admin;
pub mod cart;
pub mod checkout;
#[cfg(feature = "hydrate")]
pub mod client;
pub mod components;
pub mod error;
pub mod error_pages;
pub mod flash;
pub mod home;
pub mod image;
pub mod layout;
pub mod newsletter;
pub mod shell;
pub mod shop;
#[cfg(feature = "ssr")]
pub mod signed_in;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod url;
pub mod viewer;

use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{ParamSegment, SsrMode, StaticSegment};

pub use error::AppError;
#[cfg(feature = "ssr")]
pub use shell::shell;

/// The application: layout around the routed page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let shell_data = Resource::new(|| (), |_| layout::get_shell_data());
    provide_context(shell_data);

    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let shop = shell_data.await.map(|d| d.shop_name).unwrap_or_default();
                // Page titles come escaped from `PageTitle`; the shop's name is escaped here.
                let shop = components::rcdata_text(&shop);
                view! {
                    <Title formatter=move |page: String| {
                        if page.is_empty() { shop.clone() } else { format!("{page} · {shop}") }
                    } />
                }
            })}
        </Suspense>
        <Router>
            <layout::Layout>
                // Async: the whole page is rendered before the first byte is sent, so it is
                // complete without JavaScript and each page can set its own status code.
                <Routes fallback=|| view! { <error_pages::NotFound /> }>
                    <Route path=StaticSegment("") view=home::HomePage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("c"), ParamSegment("slug")) view=shop::category::CategoryPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("p"), ParamSegment("slug")) view=shop::product::ProductPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("search") view=shop::search::SearchPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("cart") view=cart::CartPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("checkout") view=checkout::CheckoutPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("checkout"), StaticSegment("shipping")) view=checkout::CheckoutShippingPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("checkout"), StaticSegment("review")) view=checkout::CheckoutReviewPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("checkout"), StaticSegment("complete"), ParamSegment("order")) view=checkout::CheckoutCompletePage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("pay"), StaticSegment("offline"), ParamSegment("session")) view=checkout::OfflinePayPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("register") view=account::access::RegisterPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("login") view=account::access::LoginPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("verify-email") view=account::access::VerifyEmailPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("confirm-email") view=account::access::ConfirmEmailPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("forgot-password") view=account::access::ForgotPasswordPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("reset-password") view=account::access::ResetPasswordPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("reminders"), StaticSegment("stop")) view=account::access::StopRemindersPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("account") view=account::AccountPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("account"), StaticSegment("profile")) view=account::ProfilePage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("account"), StaticSegment("sessions")) view=account::SessionsPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("account"), StaticSegment("addresses")) view=account::addresses::AddressesPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("account"), StaticSegment("addresses"), StaticSegment("new")) view=account::addresses::AddressFormPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("account"), StaticSegment("addresses"), ParamSegment("id")) view=account::addresses::AddressFormPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("account"), StaticSegment("payment-methods")) view=account::payment_methods::PaymentMethodsPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("account"), StaticSegment("orders")) view=account::orders::OrdersPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("account"), StaticSegment("orders"), ParamSegment("id")) view=account::orders::OrderPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("orders"), ParamSegment("id")) view=account::orders::LinkedOrderPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("admin") view=admin::AdminHomePage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("users")) view=admin::AdminUsersPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("users"), ParamSegment("id")) view=admin::AdminUserPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("audit")) view=admin::AdminAuditPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("analytics")) view=admin::analytics::AnalyticsPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("analytics"), StaticSegment("products")) view=admin::analytics::AnalyticsProductsPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("analytics"), StaticSegment("searches")) view=admin::analytics::AnalyticsSearchesPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("analytics"), StaticSegment("funnel")) view=admin::analytics::AnalyticsFunnelPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("analytics"), StaticSegment("carts")) view=admin::analytics::AnalyticsCartsPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("products")) view=admin::products::AdminProductsPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("products"), StaticSegment("new")) view=admin::products::AdminNewProductPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("products"), ParamSegment("id")) view=admin::products::AdminProductPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("categories")) view=admin::categories::AdminCategoriesPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("categories"), ParamSegment("id")) view=admin::categories::AdminCategoryPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("orders")) view=admin::orders::AdminOrdersPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("orders"), ParamSegment("id")) view=admin::orders::detail::AdminOrderPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("orders"), ParamSegment("id"), StaticSegment("packing-slip")) view=admin::orders::detail::PackingSlipPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("orders"), ParamSegment("id"), StaticSegment("invoice")) view=admin::orders::detail::InvoicePage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("notifications")) view=admin::notifications::AdminNotificationsPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("notifications"), ParamSegment("id")) view=admin::notifications::AdminNotificationPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("mail-templates")) view=admin::notifications::AdminMailTemplatesPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("shipping")) view=admin::shipping::AdminShippingPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("api-keys")) view=admin::api_keys::AdminApiKeysPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("webhooks")) view=admin::webhooks::AdminWebhooksPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("webhooks"), ParamSegment("id")) view=admin::webhooks::AdminWebhookPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("shipping"), StaticSegment("new")) view=admin::shipping::AdminShippingMethodPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("shipping"), ParamSegment("id")) view=admin::shipping::AdminShippingMethodPage ssr=SsrMode::Async />
                    <Route path=(StaticSegment("admin"), StaticSegment("catalog")) view=admin::catalog_io::AdminCatalogIoPage ssr=SsrMode::Async />
                </Routes>
            </layout::Layout>
        </Router>
    }
}
