//! Stripe Checkout Sessions through async-stripe: a hosted payment page (the shop never sees
//! card data), in `payment` mode, with the order's own line amounts and currency, the order
//! id as `client_reference_id` and metadata, the shopper's email, an expiry equal to the
//! hold, and an idempotency key derived from the order id, so a retry never opens a second
//! session. The API base is configurable (`STRIPE_API_BASE`), which the tests point at a
//! fake Stripe.

use std::collections::HashMap;

use serde::Serialize;
use stripe::{
    CheckoutSession, CheckoutSessionId, CheckoutSessionMode, CheckoutSessionPaymentStatus,
    CheckoutSessionStatus, Client, CreateCheckoutSession, CreateCheckoutSessionLineItems,
    CreateCheckoutSessionLineItemsPriceData, CreateCheckoutSessionLineItemsPriceDataProductData,
    CreateCustomer, CreateRefund, Customer, CustomerId, Expandable, ListPaymentMethods,
    PaymentIntentId, PaymentMethod, PaymentMethodId, PaymentMethodTypeFilter, RequestStrategy,
    StripeError,
};

use crate::payment::{
    PaymentProvider, PaymentSession, ProviderError, ProviderRefund, ProviderRefundStatus,
    RefundRequest, SavedCard, SessionRequest, SessionState,
};

/// A Checkout Session request with `saved_payment_method_options`, which async-stripe's
/// generated parameters predate: with `payment_method_save=enabled` and a customer, Stripe's
/// page shows "Save my payment details for future purchases".
#[derive(Serialize)]
struct SessionParams<'a> {
    #[serde(flatten)]
    params: CreateCheckoutSession<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    saved_payment_method_options: Option<SavedPaymentMethodOptions>,
}

#[derive(Serialize)]
struct SavedPaymentMethodOptions {
    payment_method_save: &'static str,
}

fn customer_id(id: &str) -> Result<CustomerId, ProviderError> {
    id.parse()
        .map_err(|_| ProviderError::Refused(format!("bad customer reference {id:?}")))
}

/// Pays through Stripe Checkout.
#[derive(Clone)]
pub struct StripeProvider {
    client: Client,
}

impl std::fmt::Debug for StripeProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StripeProvider")
    }
}

impl StripeProvider {
    /// A provider talking to `api_base` (`https://api.stripe.com`, or a fake in tests) with
    /// `secret_key`.
    pub fn new(api_base: &str, secret_key: &str) -> Result<StripeProvider, ProviderError> {
        // async-stripe wants the base with a trailing slash and panics on a URL it cannot
        // parse: check it first.
        let base = format!("{}/", api_base.trim_end_matches('/'));
        if !(base.starts_with("https://") || base.starts_with("http://")) || base.contains(' ') {
            return Err(ProviderError::Refused(format!(
                "bad Stripe API base {api_base:?}"
            )));
        }
        Ok(StripeProvider {
            client: Client::from_url(base.as_str(), secret_key),
        })
    }
}

fn provider_error(e: StripeError) -> ProviderError {
    match e {
        StripeError::Stripe(request) => {
            if request.http_status == 404 {
                ProviderError::UnknownSession
            } else if request.http_status >= 500
                || request.http_status == 429
                || request.http_status == 409
            {
                // Stripe may have done it (a 5xx), is busy (429), or is still doing the same
                // idempotent request (409): ask again later with the same key.
                ProviderError::Unavailable(format!(
                    "{} ({})",
                    request.message.unwrap_or_default(),
                    request.http_status
                ))
            } else {
                ProviderError::Refused(format!(
                    "{} ({})",
                    request.message.unwrap_or_default(),
                    request.http_status
                ))
            }
        }
        other => ProviderError::Unavailable(other.to_string()),
    }
}

fn session_id(id: &str) -> Result<CheckoutSessionId, ProviderError> {
    id.parse().map_err(|_| ProviderError::UnknownSession)
}

fn state(session: CheckoutSession) -> SessionState {
    SessionState {
        id: session.id.to_string(),
        status: match session.status {
            Some(CheckoutSessionStatus::Complete) => "complete",
            Some(CheckoutSessionStatus::Expired) => "expired",
            _ => "open",
        }
        .to_owned(),
        payment_status: match session.payment_status {
            CheckoutSessionPaymentStatus::Paid => "paid",
            CheckoutSessionPaymentStatus::NoPaymentRequired => "no_payment_required",
            CheckoutSessionPaymentStatus::Unpaid => "unpaid",
        }
        .to_owned(),
        amount_total: session.amount_total,
        currency: session.currency.map(|c| c.to_string()),
        payment_intent: session.payment_intent.map(|p| match p {
            Expandable::Id(id) => id.to_string(),
            Expandable::Object(intent) => intent.id.to_string(),
        }),
    }
}

#[async_trait::async_trait]
impl PaymentProvider for StripeProvider {
    fn name(&self) -> &'static str {
        "stripe"
    }

    async fn create_session(&self, req: &SessionRequest) -> Result<PaymentSession, ProviderError> {
        let currency: stripe::Currency =
            req.currency.code().to_lowercase().parse().map_err(|_| {
                ProviderError::Refused(format!("Stripe does not take {}", req.currency))
            })?;
        let line_items = req
            .lines
            .iter()
            .map(|(name, unit, quantity)| CreateCheckoutSessionLineItems {
                price_data: Some(CreateCheckoutSessionLineItemsPriceData {
                    currency,
                    unit_amount: Some(unit.minor()),
                    product_data: Some(CreateCheckoutSessionLineItemsPriceDataProductData {
                        name: name.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                quantity: u64::try_from(*quantity).ok(),
                ..Default::default()
            })
            .collect();
        let order_id = req.order_id.to_string();
        let metadata = HashMap::from([
            ("order_id".to_owned(), order_id.clone()),
            ("order_number".to_owned(), req.order_number.clone()),
        ]);
        let mut params = CreateCheckoutSession::new();
        params.mode = Some(CheckoutSessionMode::Payment);
        params.line_items = Some(line_items);
        params.client_reference_id = Some(&order_id);
        params.metadata = Some(metadata);
        // Stripe takes a customer or an email, not both; the customer has the email.
        let customer = req.customer.as_deref().map(customer_id).transpose()?;
        if customer.is_none() {
            params.customer_email = Some(&req.email);
        }
        let saving = customer.is_some();
        params.customer = customer;
        params.expires_at = Some(req.expires_at);
        params.success_url = Some(&req.success_url);
        params.cancel_url = Some(&req.cancel_url);
        let client = self
            .client
            .clone()
            .with_strategy(RequestStrategy::Idempotent(req.idempotency_key.clone()));
        let session: CheckoutSession = client
            .post_form(
                "/checkout/sessions",
                SessionParams {
                    params,
                    saved_payment_method_options: saving.then_some(SavedPaymentMethodOptions {
                        payment_method_save: "enabled",
                    }),
                },
            )
            .await
            .map_err(provider_error)?;
        let url = session.url.clone().ok_or_else(|| {
            ProviderError::Refused("Stripe returned a session without a URL".to_owned())
        })?;
        Ok(PaymentSession {
            id: session.id.to_string(),
            url,
        })
    }

    async fn session_state(&self, id: &str) -> Result<SessionState, ProviderError> {
        let session = CheckoutSession::retrieve(&self.client, &session_id(id)?, &[])
            .await
            .map_err(provider_error)?;
        Ok(state(session))
    }

    /// The Refunds API on the order's PaymentIntent, with the shop's refund id and order id
    /// as metadata (its `refund.updated` events find the refund by them) and an idempotency
    /// key per refund.
    async fn refund(&self, req: &RefundRequest) -> Result<ProviderRefund, ProviderError> {
        let intent: PaymentIntentId = req.payment_intent.parse().map_err(|_| {
            ProviderError::Refused(format!("bad payment reference {:?}", req.payment_intent))
        })?;
        let mut params = CreateRefund::new();
        params.payment_intent = Some(intent);
        params.amount = Some(req.amount.minor());
        params.metadata = Some(HashMap::from([
            ("order_id".to_owned(), req.order_id.to_string()),
            ("refund_id".to_owned(), req.refund_id.clone()),
        ]));
        let client = self
            .client
            .clone()
            .with_strategy(RequestStrategy::Idempotent(req.idempotency_key.clone()));
        let refund = stripe::Refund::create(&client, params)
            .await
            .map_err(provider_error)?;
        Ok(ProviderRefund {
            id: refund.id.to_string(),
            status: ProviderRefundStatus::parse(refund.status.as_deref().unwrap_or("pending")),
            failure: refund.failure_reason,
        })
    }

    /// `GET /v1/refunds/{id}`.
    async fn refund_state(&self, id: &str) -> Result<ProviderRefund, ProviderError> {
        let refund_id: stripe::RefundId = id
            .parse()
            .map_err(|_| ProviderError::Refused(format!("bad refund reference {id:?}")))?;
        let refund = stripe::Refund::retrieve(&self.client, &refund_id, &[])
            .await
            .map_err(provider_error)?;
        Ok(ProviderRefund {
            id: refund.id.to_string(),
            status: ProviderRefundStatus::parse(refund.status.as_deref().unwrap_or("pending")),
            failure: refund.failure_reason,
        })
    }

    /// A Stripe Customer with the shopper's email and the shop's user id as metadata.
    async fn create_customer(
        &self,
        email: &str,
        user_id: &str,
        idempotency_key: &str,
    ) -> Result<String, ProviderError> {
        let mut params = CreateCustomer::new();
        params.email = Some(email);
        params.metadata = Some(HashMap::from([("user_id".to_owned(), user_id.to_owned())]));
        let client = self
            .client
            .clone()
            .with_strategy(RequestStrategy::Idempotent(idempotency_key.to_owned()));
        let customer = Customer::create(&client, params)
            .await
            .map_err(provider_error)?;
        Ok(customer.id.to_string())
    }

    /// The customer's card payment methods (`GET /v1/payment_methods?customer=&type=card`).
    async fn cards(&self, customer: &str) -> Result<Vec<SavedCard>, ProviderError> {
        let mut params = ListPaymentMethods::new();
        params.customer = Some(customer_id(customer)?);
        params.type_ = Some(PaymentMethodTypeFilter::Card);
        params.limit = Some(100);
        let list = PaymentMethod::list(&self.client, &params)
            .await
            .map_err(provider_error)?;
        Ok(list
            .data
            .into_iter()
            .filter_map(|pm| {
                let card = pm.card?;
                Some(SavedCard {
                    id: pm.id.to_string(),
                    brand: card.brand,
                    last4: card.last4,
                    exp_month: card.exp_month,
                    exp_year: card.exp_year,
                })
            })
            .collect())
    }

    /// Detaches the payment method after checking it is this customer's (Stripe would
    /// detach any payment method of the account).
    async fn remove_card(&self, customer: &str, card: &str) -> Result<bool, ProviderError> {
        let Ok(id) = card.parse::<PaymentMethodId>() else {
            return Ok(false);
        };
        let pm = match PaymentMethod::retrieve(&self.client, &id, &[]).await {
            Ok(pm) => pm,
            Err(StripeError::Stripe(request)) if request.http_status == 404 => return Ok(false),
            Err(e) => return Err(provider_error(e)),
        };
        let owner = pm.customer.map(|c| match c {
            Expandable::Id(id) => id.to_string(),
            Expandable::Object(c) => c.id.to_string(),
        });
        if owner.as_deref() != Some(customer) {
            return Ok(false);
        }
        PaymentMethod::detach(&self.client, &id)
            .await
            .map_err(provider_error)?;
        Ok(true)
    }

    async fn expire_session(&self, id: &str) -> Result<SessionState, ProviderError> {
        let id = session_id(id)?;
        match CheckoutSession::expire(&self.client, &id).await {
            Ok(session) => Ok(state(session)),
            // Only an open session can be expired: one already complete or expired answers
            // 400, and its state is what the caller needs.
            Err(StripeError::Stripe(request)) if request.http_status == 400 => {
                self.session_state(id.as_str()).await
            }
            Err(e) => Err(provider_error(e)),
        }
    }
}
