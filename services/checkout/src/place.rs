//! Placing an order and starting its payment.
//!
//! One transaction ([`Db::write`]: on SQLite shared with the orders placed at the same
//! moment) holds the units (one conditional update per line: zero rows means sold out and
//! the order's writes roll back), numbers the order, writes it with its lines and first
//! history entries, marks the cart as being checked out, records the checkout attempt's key
//! and enqueues `order.placed`. The offline provider opens its payment session in that same
//! transaction. A provider behind an API (Stripe) is asked only after the commit, with a
//! key derived from the order id, so a retry after a crash gets the same session.

use std::sync::Arc;

use shop_core::{
    Backend, Batch, CartId, Clock, Db, Email, Money, OrderId, ProductId, UserId, Writer, outbox,
};
use sqlx::Row;

use crate::orders::{self, OrderStatus, PostalAddress};
use crate::payment::{PaymentSession, SessionRequest};
use crate::pricing::{self, Quote};
use crate::shipping::{self, ShippingMethod, ShippingMethodId};
use crate::{Checkout, CheckoutError, FailPoint, ORDER_PLACED};

/// What the shopper submits on the review page. Nothing here is a price: the shop computes
/// every amount itself.
#[derive(Clone, Debug)]
pub struct PlaceOrder {
    pub cart: CartId,
    /// The signed-in customer, if any.
    pub customer: Option<UserId>,
    pub email: Email,
    pub shipping_address: PostalAddress,
    /// `None`: the same as the shipping address.
    pub billing_address: Option<PostalAddress>,
    pub shipping_method: ShippingMethodId,
    /// The fingerprint of the quote the shopper reviewed ([`Checkout::review`]).
    pub reviewed: String,
    /// One per checkout attempt (the review page's form carries it): a double click or a
    /// replayed request finds the first one's order.
    pub idempotency_key: String,
}

/// A placed order and where the shopper pays for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    pub order_id: OrderId,
    pub number: i64,
    pub payment_url: String,
}

/// A quote with the chosen method, as the review page shows it.
#[derive(Clone, Debug)]
pub struct Review {
    pub quote: Quote,
    pub method: ShippingMethod,
    /// What the place-order form carries back.
    pub fingerprint: String,
}

/// An order just written, with its payment session if it was opened in the same commit.
struct Inserted {
    id: OrderId,
    number: i64,
    session: Option<PaymentSession>,
}

/// Adds the order, its lines, its first history entries, the cart's mark, the attempt's key
/// and `order.placed` to `batch`, after what it holds already (the holds, the payment
/// session's insert). The cart's mark returns a `checkout_started` row, or none when
/// another tab placed this cart a moment ago.
#[allow(clippy::too_many_arguments)]
fn order_into(
    batch: &mut Batch,
    input: &PlaceOrder,
    key: &str,
    review: &Review,
    id: &OrderId,
    number: i64,
    hold_until: i64,
    at: i64,
    provider: &str,
    session: Option<&PaymentSession>,
    clock: &Clock,
) -> Result<(), CheckoutError> {
    let quote = &review.quote;
    let ship = &input.shipping_address;
    let bill = input.billing_address.as_ref().unwrap_or(ship);
    let json = |a: &PostalAddress| serde_json::to_string(a).unwrap_or_default();
    let shipping = quote
        .shipping
        .unwrap_or(shop_core::Money::zero(quote.currency));
    batch
        .add(
            "INSERT INTO orders (id, number, status, stock, user_id, email, cart_id, currency,
                    subtotal_minor, shipping_minor, vat_minor, total_minor, vat_rate_bp,
                    shipping_method_id, shipping_method_name, shipping_days, shipping_address,
                    billing_address, fingerprint, hold_until, payment_provider, placed_at,
                    updated_at, payment_session_id, payment_url)
             VALUES ($1, $2, 'pending_payment', 'held', $3, $4, $5, $6, $7, $8, $9, $10, $11,
                    $12, $13, $14, $15, $16, $17, $18, $19, $20, $20, $21, $22)",
        )
        .bind(id.as_str().to_owned())
        .bind(number)
        .bind(input.customer.as_ref().map(|u| u.as_str().to_owned()))
        .bind(input.email.as_str().to_owned())
        .bind(input.cart.as_str().to_owned())
        .bind(quote.currency.code())
        .bind(quote.subtotal.minor())
        .bind(shipping.minor())
        .bind(quote.vat.minor())
        .bind(quote.total.minor())
        .bind(quote.vat_rate_bp)
        .bind(review.method.id.as_str().to_owned())
        .bind(review.method.name.clone())
        .bind(review.method.days_label())
        .bind(json(ship))
        .bind(json(bill))
        .bind(review.fingerprint.clone())
        .bind(hold_until)
        .bind(provider.to_owned())
        .bind(at)
        .bind(session.map(|s| s.id.clone()))
        .bind(session.map(|s| s.url.clone()));
    // All lines in one statement.
    const COLUMNS: usize = 15;
    let rows: Vec<String> = (0..quote.lines.len())
        .map(|row| {
            format!(
                "({})",
                shop_core::db::placeholders(row * COLUMNS + 1, COLUMNS)
            )
        })
        .collect();
    batch.add(&format!(
        "INSERT INTO order_lines (id, order_id, position, variant_id, product_id, product_name,
                slug, options, sku, image, quantity, unit_price_minor, line_total_minor,
                vat_minor, vendor_id)
         VALUES {}",
        rows.join(", ")
    ));
    for (position, l) in quote.lines.iter().enumerate() {
        batch
            .bind(shop_core::id::new_uuid_v7())
            .bind(id.as_str().to_owned())
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(l.variant_id.as_str().to_owned())
            .bind(l.product_id.as_str().to_owned())
            .bind(l.product_name.clone())
            .bind(l.slug.clone())
            .bind(serde_json::to_string(&l.options).unwrap_or_else(|_| "[]".to_owned()))
            .bind(l.sku.clone())
            .bind(l.image.clone())
            .bind(l.quantity)
            .bind(l.unit_price.minor())
            .bind(l.line_total.minor())
            .bind(l.vat.minor())
            // The product's vendor, copied with the rest (vendors see their own lines).
            .bind(l.vendor_id.as_ref().map(|v| v.as_str().to_owned()));
    }
    let actor = if input.customer.is_some() {
        "customer"
    } else {
        "guest"
    };
    // The history's first entries: placed, and the payment started when its session opened
    // in this same commit.
    let mut history = vec![("placed", "", actor)];
    if session.is_some() {
        history.push(("payment_started", provider, "system"));
    }
    orders::record_all_into(batch, id, OrderStatus::PendingPayment, &history, at);
    cart::checkout::start_checkout_into(batch, &input.cart, id, at);
    batch
        .add(
            "INSERT INTO checkout_attempts (idempotency_key, cart_id, order_id, created_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(key.to_owned())
        .bind(input.cart.as_str().to_owned())
        .bind(id.as_str().to_owned())
        .bind(at);
    outbox::enqueue_into(
        batch,
        clock,
        ORDER_PLACED,
        &serde_json::json!({ "order_id": id, "number": number }),
    )?;
    Ok(())
}

/// What a placing tells apart: the addresses and email belong to what the shopper agreed to.
fn agreement(input_email: &Email, ship: &PostalAddress, bill: &PostalAddress) -> String {
    format!(
        "{}|{}|{}",
        input_email.as_str(),
        serde_json::to_string(ship).unwrap_or_default(),
        serde_json::to_string(bill).unwrap_or_default()
    )
}

/// The shortest payment session Stripe accepts is 30 minutes from its creation; a minute
/// more leaves room for the request's own time.
const MIN_SESSION: std::time::Duration = std::time::Duration::from_secs(31 * 60);

#[derive(sqlx::FromRow)]
struct Attempt {
    cart_id: String,
    order_id: String,
}

/// The last order number this process gave out on SQLite, where one connection writes and
/// orders are numbered one after another: the next order guesses the number after it and
/// checks the guess in the same round trip as the rest of its writes. `None` until the
/// first order (or after a wrong guess): then the number is counted in a round trip of its
/// own.
#[derive(Debug, Default)]
pub(crate) struct LastNumber(std::sync::Mutex<Option<i64>>);

impl LastNumber {
    fn get(&self) -> Option<i64> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, last: Option<i64>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = last;
    }
}

/// Why a placing job did not write its order.
#[derive(Debug)]
enum JobError {
    Failed(CheckoutError),
    /// The guessed number was not the next one; nothing was written. Try again, counting.
    Misnumbered(CheckoutError),
}

impl JobError {
    fn into_error(self) -> CheckoutError {
        match self {
            JobError::Failed(e) | JobError::Misnumbered(e) => e,
        }
    }
}

impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        JobError::Failed(e.into())
    }
}

impl From<CheckoutError> for JobError {
    fn from(e: CheckoutError) -> Self {
        JobError::Failed(e)
    }
}

/// Everything the placing job writes, prepared before it takes the write connection.
struct PlaceJob {
    input: PlaceOrder,
    key: String,
    review: Review,
    id: OrderId,
    request: SessionRequest,
    hold_until: i64,
    at: i64,
    provider: Arc<dyn crate::payment::PaymentProvider>,
    clock: Clock,
    numbers: Arc<LastNumber>,
}

impl PlaceJob {
    /// Numbers the order, holds its units (in variant order: two orders for the same
    /// variants lock them in the same order, so PostgreSQL never deadlocks), refreshes the
    /// products' availability, opens the payment session when the provider keeps it here,
    /// and writes the order: one batch, so one round trip on SQLite when `guess` and the last
    /// number is known. Each held line returns its variant; one missing means sold out, and
    /// the job's writes roll back.
    async fn run(&self, mut w: Writer<'_>, guess: bool) -> Result<Inserted, JobError> {
        let guessed = if guess { self.numbers.get() } else { None };
        let number = match guessed {
            Some(last) => last + 1,
            None => {
                let mut count = w.batch();
                count.add("UPDATE order_numbers SET last = last + 1 WHERE id = 1 RETURNING last");
                let rows = w.fetch_all(count).await?;
                rows.first()
                    .ok_or(sqlx::Error::RowNotFound)?
                    .try_get::<i64, _>("last")?
            }
        };
        let mut batch = w.batch();
        if let Some(last) = guessed {
            batch
                .add(
                    "UPDATE order_numbers SET last = $1 WHERE id = 1 AND last = $2
                     RETURNING last AS numbered",
                )
                .bind(number)
                .bind(last);
        }
        let quote = &self.review.quote;
        let mut holds: Vec<&pricing::QuoteLine> = quote.lines.iter().collect();
        holds.sort_by(|a, b| a.variant_id.cmp(&b.variant_id));
        for line in &holds {
            catalog::stock::reserve_into(&mut batch, &line.variant_id, line.quantity, self.at);
        }
        let products: Vec<ProductId> = holds.iter().map(|l| l.product_id.clone()).collect();
        catalog::stock::refresh_products_into(&mut batch, &products);
        let mut request = self.request.clone();
        request.order_number = orders::number_label(number);
        let session = self.provider.create_session_into(&mut batch, &request);
        order_into(
            &mut batch,
            &self.input,
            &self.key,
            &self.review,
            &self.id,
            number,
            self.hold_until,
            self.at,
            self.provider.name(),
            session.as_ref(),
            &self.clock,
        )?;
        let rows = match w.fetch_all(batch).await {
            Ok(rows) => rows,
            // A wrong guess can collide with an order numbered elsewhere.
            Err(e)
                if guessed.is_some()
                    && shop_core::error::violated_unique(&e).as_deref()
                        == Some("orders.number") =>
            {
                self.numbers.set(None);
                return Err(JobError::Misnumbered(e.into()));
            }
            // `Checkout::insert` forgets the last number on any database error.
            Err(e) => return Err(e.into()),
        };
        // Rows from several statements: each kind is told by its column.
        let texts = |column: &'static str| {
            rows.iter()
                .filter_map(move |r| r.try_get::<String, _>(column).ok())
        };
        if guessed.is_some() && !rows.iter().any(|r| r.try_get::<i64, _>("numbered").is_ok()) {
            self.numbers.set(None);
            return Err(JobError::Misnumbered(CheckoutError::Changed));
        }
        let held: Vec<String> = texts("held").collect();
        if let Some(gone) = holds
            .iter()
            .find(|l| !held.iter().any(|v| v == l.variant_id.as_str()))
        {
            return Err(CheckoutError::SoldOut(gone.product_name.clone()).into());
        }
        if texts("checkout_started").next().is_none() {
            // Another tab placed this cart a moment ago; the caller finds its order.
            return Err(CheckoutError::Changed.into());
        }
        if guess {
            self.numbers.set(Some(number));
        }
        Ok(Inserted {
            id: self.id.clone(),
            number,
            session,
        })
    }
}

impl Checkout {
    /// The method if the shopper may choose it for `country` (the quote refuses one priced
    /// in another currency than the cart).
    async fn method_for(
        &self,
        id: &ShippingMethodId,
        country: &str,
    ) -> Result<ShippingMethod, CheckoutError> {
        let not_offered = || {
            CheckoutError::invalid(
                "shipping_method",
                "That shipping method is not offered for this address; choose another.",
            )
        };
        let method = match shipping::get(&self.db, id).await {
            Err(CheckoutError::NotFound) => return Err(not_offered()),
            other => other?,
        };
        if !method.active || !method.serves(country) {
            return Err(not_offered());
        }
        Ok(method)
    }

    /// The quote for the review page: the cart at current prices with the chosen method.
    pub async fn review(
        &self,
        cart: &CartId,
        email: &Email,
        shipping_address: &PostalAddress,
        billing_address: Option<&PostalAddress>,
        method: &ShippingMethodId,
    ) -> Result<Review, CheckoutError> {
        let pending = cart::checkout::pending_order(&self.db, cart).await?;
        self.review_pending(
            cart,
            pending.as_ref(),
            email,
            shipping_address,
            billing_address,
            method,
        )
        .await
    }

    /// [`Checkout::review`] for a cart whose unpaid order (if any) is known already.
    async fn review_pending(
        &self,
        cart: &CartId,
        pending: Option<&OrderId>,
        email: &Email,
        shipping_address: &PostalAddress,
        billing_address: Option<&PostalAddress>,
        method: &ShippingMethodId,
    ) -> Result<Review, CheckoutError> {
        let method = self.method_for(method, &shipping_address.country).await?;
        let quote = pricing::quote_pending(
            &self.db,
            cart,
            pending,
            Some(&method),
            self.settings.vat_rate_bp,
        )
        .await?;
        let bill = billing_address.unwrap_or(shipping_address);
        let fingerprint =
            quote.fingerprint(Some(&method), &agreement(email, shipping_address, bill));
        Ok(Review {
            quote,
            method,
            fingerprint,
        })
    }

    /// Places the order for `input.cart` and opens its payment session. A replay of the same
    /// attempt, or a second tab placing the same cart with the same details, gets the order
    /// already placed.
    pub async fn place(&self, input: &PlaceOrder) -> Result<Placed, CheckoutError> {
        let key = shop_core::id::parse_uuid(&input.idempotency_key).map_err(|_| {
            CheckoutError::invalid(
                "idempotency_key",
                "This checkout form is out of date; reload the page.",
            )
        })?;
        if let Some(existing) = self.attempted(&key, &input.cart).await? {
            return self.resume(&existing).await;
        }
        // The cart may be being checked out already: the same order again (a second tab),
        // or an older one that the shopper has since changed, which is withdrawn first, but
        // only for a form that agrees with the cart as it is now (a stale tab withdraws
        // nothing).
        let pending = cart::checkout::pending_order(&self.db, &input.cart).await?;
        let review = self
            .review_pending(
                &input.cart,
                pending.as_ref(),
                &input.email,
                &input.shipping_address,
                input.billing_address.as_ref(),
                &input.shipping_method,
            )
            .await?;
        let mut pending_row = None;
        if let Some(order) = &pending {
            let mut conn = self.db.reader().acquire().await?;
            pending_row = orders::row(&mut conn, order)
                .await?
                .filter(|r| r.status() == OrderStatus::PendingPayment);
        }
        if review.fingerprint != input.reviewed.trim() {
            return Err(CheckoutError::Changed);
        }
        if let (Some(order), Some(row)) = (&pending, &pending_row)
            && row.fingerprint == review.fingerprint
        {
            return self.resume(order).await;
        }
        if let (Some(order), Some(_)) = (&pending, &pending_row) {
            self.withdraw(order).await?;
        }
        // A signed-in shopper pays as the provider's customer, so the payment page can save
        // the card. Saving is a convenience: a provider that cannot make the customer now
        // does not stop the purchase.
        let customer = match &input.customer {
            Some(user) => match self.payment_customer(user, input.email.as_str()).await {
                Ok(customer) => Some(customer),
                Err(e) => {
                    tracing::warn!(error = %e, "no payment customer; the card cannot be saved this time");
                    None
                }
            },
            None => None,
        };
        let inserted = match self.insert(input, &key, &review, customer).await {
            Ok(inserted) => inserted,
            Err(e) => {
                // Lost a race with the same attempt (a double click on PostgreSQL) or the
                // same cart (a second tab): the winner's order is the answer.
                if let Some(existing) = self.attempted(&key, &input.cart).await? {
                    return self.resume(&existing).await;
                }
                return Err(e);
            }
        };
        tracing::info!(order.id = %inserted.id, order.number = inserted.number, total = %review.quote.total, "order placed");
        self.trip(FailPoint::AfterOrderCommitted)?;
        match inserted.session {
            Some(session) => Ok(Placed {
                order_id: inserted.id,
                number: inserted.number,
                payment_url: session.url,
            }),
            None => self.resume(&inserted.id).await,
        }
    }

    /// The order an earlier request with `idempotency_key` placed for `cart`, or `None`
    /// when the key is new: for callers that check a request further before placing (the
    /// JSON API), so a retry finds the first order even when the cart changed or the order
    /// was paid since.
    pub async fn attempt_of(
        &self,
        idempotency_key: &str,
        cart: &CartId,
    ) -> Result<Option<OrderId>, CheckoutError> {
        match shop_core::id::parse_uuid(idempotency_key) {
            Ok(key) => self.attempted(&key, cart).await,
            Err(_) => Ok(None),
        }
    }

    /// The order an earlier request with this key placed, if any. A key used for another
    /// cart is refused: it is not this shopper's attempt.
    async fn attempted(&self, key: &str, cart: &CartId) -> Result<Option<OrderId>, CheckoutError> {
        let found: Option<Attempt> = sqlx::query_as(
            "SELECT cart_id, order_id FROM checkout_attempts WHERE idempotency_key = $1",
        )
        .bind(key)
        .fetch_optional(self.db.reader())
        .await?;
        match found {
            None => Ok(None),
            Some(a) if a.cart_id == cart.as_str() => Ok(Some(OrderId::from_db(a.order_id))),
            Some(_) => Err(CheckoutError::invalid(
                "idempotency_key",
                "This checkout form is out of date; reload the page.",
            )),
        }
    }

    /// Writes the order in one transaction (see the module's documentation), with its
    /// payment session when the provider keeps sessions in the shop's database. Goes through
    /// [`Db::write`]: on SQLite, orders placed at the same moment share one commit, and each
    /// order is one round trip to the database once the last number given out is known.
    async fn insert(
        &self,
        input: &PlaceOrder,
        key: &str,
        review: &Review,
        customer: Option<String>,
    ) -> Result<Inserted, CheckoutError> {
        let now = self.clock.now();
        let at = now.millis();
        // The hold lasts as long as the payment session can (Stripe's shortest is 31 minutes
        // with the margin), so the order and its session end together.
        let hold_until = now.plus(self.settings.hold.max(MIN_SESSION)).millis();
        let id = OrderId::new();
        let mut request = self.request_for(
            &id,
            0,
            input.email.as_str(),
            review
                .quote
                .lines
                .iter()
                .map(|l| (l.product_name.clone(), l.unit_price, l.quantity)),
            review
                .quote
                .shipping
                .map(|price| (review.method.name.as_str(), price)),
            review.quote.total,
            hold_until,
        );
        request.customer = customer;
        let job = Arc::new(PlaceJob {
            input: input.clone(),
            key: key.to_owned(),
            review: review.clone(),
            id,
            request,
            hold_until,
            at,
            provider: Arc::clone(&self.provider),
            clock: self.clock.clone(),
            numbers: Arc::clone(&self.numbers),
        });
        // SQLite: the first try takes the number after the last one this process gave out;
        // if that guess was wrong (another process placed an order), the second counts.
        let guess = self.db.backend() == Backend::Sqlite;
        let first = Arc::clone(&job);
        match self
            .db
            .write(move |w| Box::pin(async move { first.run(w, guess).await }))
            .await
        {
            Ok(inserted) => Ok(inserted),
            Err(JobError::Failed(e)) => {
                if matches!(e, CheckoutError::Db(_)) {
                    // The batch may not have committed after the job counted its number.
                    self.numbers.set(None);
                }
                Err(e)
            }
            Err(JobError::Misnumbered(why)) => {
                tracing::debug!(error = %why, "order number guessed wrong; numbering afresh");
                self.db
                    .write(move |w| Box::pin(async move { job.run(w, false).await }))
                    .await
                    .map_err(JobError::into_error)
            }
        }
    }

    /// Where the shopper pays for `order`: its session, opened now if it has none yet (after
    /// a crash, or when the provider was down). Refuses an order that no longer awaits
    /// payment.
    pub async fn resume(&self, order: &OrderId) -> Result<Placed, CheckoutError> {
        let mut conn = self.db.reader().acquire().await?;
        let row = orders::row(&mut conn, order)
            .await?
            .ok_or(CheckoutError::NotFound)?;
        drop(conn);
        match row.status() {
            OrderStatus::PendingPayment => {}
            OrderStatus::Expired | OrderStatus::Cancelled => {
                return Err(CheckoutError::invalid(
                    "order",
                    "The time to pay for this order has run out. Your cart is as you left it; place the order again.",
                ));
            }
            _ => return Err(CheckoutError::AlreadyPaid),
        }
        if let Some(url) = row.payment_url.clone() {
            return Ok(Placed {
                order_id: order.clone(),
                number: row.number,
                payment_url: url,
            });
        }
        let mut request = self.session_request(&row).await?;
        // Stripe takes a session only if it lasts at least 30 minutes from its creation: a
        // session opened late (after a crash, or when the provider was down) extends the
        // hold to match, so the order and its session end together.
        let now = self.clock.now();
        let earliest_end = now.plus(MIN_SESSION).millis() / 1000;
        request.expires_at = request.expires_at.max(earliest_end);
        let session = self.provider.create_session(&request).await?;
        self.trip(FailPoint::AfterSessionCreated)?;
        let at = self.clock.now().millis();
        let mut tx = self.db.begin().await?;
        let saved = sqlx::query(
            "UPDATE orders SET payment_session_id = $1, payment_url = $2, updated_at = $3,
                    hold_until = CASE WHEN hold_until < $5 THEN $5 ELSE hold_until END
             WHERE id = $4 AND payment_session_id IS NULL",
        )
        .bind(&session.id)
        .bind(&session.url)
        .bind(at)
        .bind(order.as_str())
        .bind(request.expires_at * 1000)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if saved == 1 {
            orders::record(
                &mut tx,
                order,
                "payment_started",
                OrderStatus::PendingPayment,
                self.provider.name(),
                "system",
                at,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Placed {
            order_id: order.clone(),
            number: row.number,
            payment_url: session.url,
        })
    }

    /// The session request for a stored order (one placed while the provider was down, or
    /// before a crash).
    async fn session_request(
        &self,
        row: &orders::OrderRow,
    ) -> Result<SessionRequest, CheckoutError> {
        #[derive(sqlx::FromRow)]
        struct Line {
            product_name: String,
            quantity: i64,
            unit_price_minor: i64,
        }
        let lines: Vec<Line> = sqlx::query_as(
            "SELECT product_name, quantity, unit_price_minor FROM order_lines
             WHERE order_id = $1 ORDER BY position",
        )
        .bind(&row.id)
        .fetch_all(self.db.reader())
        .await?;
        let currency = row.currency();
        let money = |m| Money::new(m, currency);
        let customer = match row.user_id.clone().map(UserId::from_db) {
            Some(user) => self.customer_of(&user).await?,
            None => None,
        };
        let mut request = self.request_for(
            &row.order_id(),
            row.number,
            &row.email,
            lines
                .into_iter()
                .map(|l| (l.product_name, money(l.unit_price_minor), l.quantity)),
            Some((row.shipping_method_name.as_str(), money(row.shipping_minor))),
            money(row.total_minor),
            row.hold_until,
        );
        request.customer = customer;
        Ok(request)
    }

    /// What the provider is asked to collect for order `id`: each line, shipping as a line
    /// of its own (when it costs anything), the total, until the hold ends.
    #[allow(clippy::too_many_arguments)]
    fn request_for(
        &self,
        id: &OrderId,
        number: i64,
        email: &str,
        lines: impl Iterator<Item = (String, Money, i64)>,
        shipping: Option<(&str, Money)>,
        total: Money,
        hold_until: i64,
    ) -> SessionRequest {
        let mut items: Vec<(String, Money, i64)> = lines.collect();
        if let Some((name, price)) = shipping.filter(|(_, price)| price.minor() > 0) {
            items.push((format!("Shipping: {name}"), price, 1));
        }
        let token = self.keys.order_token(id);
        let base = &self.settings.base_url;
        SessionRequest {
            order_number: orders::number_label(number),
            email: email.to_owned(),
            currency: total.currency(),
            lines: items,
            total,
            expires_at: hold_until / 1000,
            success_url: format!("{base}/checkout/complete/{id}?t={token}"),
            // Back to the cart, everything still in it; the order stays payable until its
            // window closes, and placing the cart again picks it up or replaces it.
            cancel_url: format!("{base}/cart?flash=payment_cancelled"),
            idempotency_key: format!("checkout-session-{id}"),
            order_id: id.clone(),
            customer: None,
        }
    }

    /// The shopper is about to change `cart`: an order placed from it and still unpaid no
    /// longer matches it and is withdrawn first, so its units are free for the change (and
    /// the cart converts at most once). If that order turns out to be paid meanwhile, the
    /// change goes ahead on what is left in the cart.
    pub async fn cart_changing(&self, cart: &CartId) -> Result<(), CheckoutError> {
        match cart::checkout::pending_order(&self.db, cart).await? {
            Some(order) => self.cart_changing_from(&order).await,
            None => Ok(()),
        }
    }

    /// [`Checkout::cart_changing`] for a cart known to be checked out as `order`.
    pub async fn cart_changing_from(&self, order: &OrderId) -> Result<(), CheckoutError> {
        match self.withdraw(order).await {
            Ok(()) | Err(CheckoutError::AlreadyPaid) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Withdraws an unpaid order (the shopper changed the cart, or cancelled on the payment
    /// page): closes its payment session, then releases its units. If the session turns out
    /// to be paid, the payment is applied instead and the shopper is told so.
    pub async fn withdraw(&self, order: &OrderId) -> Result<(), CheckoutError> {
        let mut conn = self.db.reader().acquire().await?;
        let row = orders::row(&mut conn, order)
            .await?
            .ok_or(CheckoutError::NotFound)?;
        drop(conn);
        if row.status() != OrderStatus::PendingPayment {
            return Ok(());
        }
        if let Some(session) = row.payment_session_id.as_deref() {
            let state = self.provider.expire_session(session).await?;
            if state.status == "complete" {
                self.apply_session(&row.order_id(), &state, "reconciler")
                    .await?;
                return Err(CheckoutError::AlreadyPaid);
            }
        }
        self.lapse(
            order,
            OrderStatus::Cancelled,
            "withdrawn by the shopper",
            "shopper",
        )
        .await?;
        Ok(())
    }
}

/// An order's status, for pages that poll it.
pub async fn status(db: &Db, order: &OrderId) -> Result<OrderStatus, CheckoutError> {
    let mut conn = db.reader().acquire().await?;
    orders::row(&mut conn, order)
        .await?
        .map(|r| r.status())
        .ok_or(CheckoutError::NotFound)
}
