//! What is counted: the kinds of events, and an event as a page or a server function notes it.

/// A kind of event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A product page.
    ProductView,
    /// A category page.
    ListingView,
    /// A search (its first page), with its number of results.
    Search,
    /// Units of a product put into a cart.
    AddToCart,
    /// The cart page.
    CartView,
    /// The first step of checkout.
    CheckoutStarted,
    /// An order placed (not yet paid), by the visitor who placed it.
    OrderPlaced,
    /// An order paid: its total (recorded by the server from the payment, once).
    OrderPaid,
    /// A line of a paid order: its product, units and total.
    Sale,
    /// Money given back for an order.
    Refund,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::ProductView,
        Kind::ListingView,
        Kind::Search,
        Kind::AddToCart,
        Kind::CartView,
        Kind::CheckoutStarted,
        Kind::OrderPlaced,
        Kind::OrderPaid,
        Kind::Sale,
        Kind::Refund,
    ];

    /// The name stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ProductView => "product_view",
            Kind::ListingView => "listing_view",
            Kind::Search => "search",
            Kind::AddToCart => "add_to_cart",
            Kind::CartView => "cart_view",
            Kind::CheckoutStarted => "checkout_started",
            Kind::OrderPlaced => "order_placed",
            Kind::OrderPaid => "order_paid",
            Kind::Sale => "sale",
            Kind::Refund => "refund",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// An event as the code that serves a request notes it: what happened, without who or when
/// (the recorder adds those). Every field but the kind is optional; each kind fills in what
/// it is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Noted {
    pub kind: Kind,
    pub product_id: Option<String>,
    pub vendor_id: Option<String>,
    pub category_id: Option<String>,
    /// A search's normalised words.
    pub term: Option<String>,
    pub results: Option<i64>,
    pub quantity: Option<i64>,
    pub order_id: Option<String>,
    pub cart_id: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
}

/// Longest text field kept (ids are 36 characters; a search term is cut here).
const MAX_FIELD: usize = 200;

impl Noted {
    pub fn new(kind: Kind) -> Noted {
        Noted {
            kind,
            product_id: None,
            vendor_id: None,
            category_id: None,
            term: None,
            results: None,
            quantity: None,
            order_id: None,
            cart_id: None,
            amount_minor: None,
            currency: None,
        }
    }

    /// A product page's view.
    pub fn product_view(product_id: &str, vendor_id: Option<&str>) -> Noted {
        Noted {
            product_id: Some(product_id.to_owned()),
            vendor_id: vendor_id.map(str::to_owned),
            ..Noted::new(Kind::ProductView)
        }
    }

    /// A search: its normalised words and how many products it found.
    pub fn search(term: &str, results: i64) -> Noted {
        Noted {
            term: Some(term.to_owned()),
            results: Some(results),
            ..Noted::new(Kind::Search)
        }
    }

    /// The event as one header value: `application/x-www-form-urlencoded` pairs, the kind
    /// first. This is how a rendered page hands its event to the server's recorder, and how
    /// the page cache keeps it with the page.
    pub fn to_header(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        out.append_pair("kind", self.kind.as_str());
        let texts = [
            ("product", &self.product_id),
            ("vendor", &self.vendor_id),
            ("category", &self.category_id),
            ("term", &self.term),
            ("order", &self.order_id),
            ("cart", &self.cart_id),
            ("currency", &self.currency),
        ];
        for (name, value) in texts {
            if let Some(v) = value {
                out.append_pair(name, v);
            }
        }
        let numbers = [
            ("results", self.results),
            ("quantity", self.quantity),
            ("amount", self.amount_minor),
        ];
        for (name, value) in numbers {
            if let Some(v) = value {
                out.append_pair(name, &v.to_string());
            }
        }
        out.finish()
    }

    /// An event from [`Noted::to_header`]'s form; `None` if it names no known kind. Unknown
    /// names are ignored, text is cut to a bounded length and numbers that do not parse are
    /// left out.
    pub fn from_header(value: &str) -> Option<Noted> {
        let mut pairs = form_urlencoded::parse(value.as_bytes());
        let (name, kind) = pairs.next()?;
        if name != "kind" {
            return None;
        }
        let mut noted = Noted::new(Kind::parse(&kind)?);
        for (name, value) in pairs {
            let text = || Some(value.chars().take(MAX_FIELD).collect::<String>());
            let number = || value.parse::<i64>().ok();
            match &*name {
                "product" => noted.product_id = text(),
                "vendor" => noted.vendor_id = text(),
                "category" => noted.category_id = text(),
                "term" => noted.term = text(),
                "order" => noted.order_id = text(),
                "cart" => noted.cart_id = text(),
                "currency" => noted.currency = text(),
                "results" => noted.results = number(),
                "quantity" => noted.quantity = number(),
                "amount" => noted.amount_minor = number(),
                _ => {}
            }
        }
        Some(noted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_survives_its_header_form() {
        let mut e = Noted::search("cast iron & <pan>", 0);
        e.quantity = Some(3);
        e.vendor_id = Some("v=1&x".to_owned());
        assert_eq!(Noted::from_header(&e.to_header()), Some(e));
        let p = Noted::product_view("p1", None);
        assert_eq!(Noted::from_header(&p.to_header()), Some(p));
    }

    #[test]
    fn a_header_without_a_known_kind_first_is_no_event() {
        assert_eq!(Noted::from_header(""), None);
        assert_eq!(Noted::from_header("kind=nope"), None);
        assert_eq!(Noted::from_header("product=p&kind=search"), None);
        let long = format!("kind=search&term={}&results=x", "a".repeat(5000));
        let e = Noted::from_header(&long).unwrap();
        assert_eq!(e.term.unwrap().len(), MAX_FIELD);
        assert_eq!(e.results, None);
    }

    #[test]
    fn every_kind_has_its_own_name() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
    }
}
