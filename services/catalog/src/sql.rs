//! A small SQL builder for queries whose shape depends on the shopper's filters.
//!
//! It numbers placeholders `$1, $2, ...` (which both SQLite and PostgreSQL accept; sqlx's own
//! `QueryBuilder` writes `?` for the `Any` driver) and keeps the values in order, so values
//! are always bound and never spliced into the SQL text.

use sqlx::Arguments as _;
use sqlx::any::AnyArguments;

/// A value to bind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

/// SQL text plus its bound values.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            args: Vec::new(),
        }
    }

    /// Appends literal SQL.
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self
    }

    /// Appends `(p1, p2, ...)` for a non-empty list.
    pub(crate) fn bind_list<T: Into<Arg> + Clone>(&mut self, values: &[T]) -> &mut Self {
        self.text.push('(');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(v.clone());
        }
        self.text.push(')');
        self
    }

    /// Appends another fragment, renumbering its placeholders after this one's.
    pub(crate) fn append(&mut self, other: &Sql) -> &mut Self {
        let offset = self.args.len();
        let mut rest = other.text.as_str();
        while let Some(pos) = rest.find('$') {
            self.text.push_str(&rest[..pos]);
            let digits: String = rest[pos + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            match digits.parse::<usize>() {
                Ok(n) => {
                    self.text.push('$');
                    self.text.push_str(&(n + offset).to_string());
                }
                Err(_) => self.text.push('$'),
            }
            rest = &rest[pos + 1 + digits.len()..];
        }
        self.text.push_str(rest);
        self.args.extend(other.args.iter().cloned());
        self
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn arguments(&self) -> AnyArguments<'static> {
        let mut args = AnyArguments::default();
        for a in &self.args {
            // Adding an i64 or a String to AnyArguments cannot fail.
            let _ = match a {
                Arg::Int(i) => args.add(*i),
                Arg::Text(t) => args.add(t.clone()),
            };
        }
        args
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders_and_renumbers_appended_fragments() {
        let mut inner = Sql::new("b = ");
        inner.bind("x").push(" AND c IN ").bind_list(&[1_i64, 2]);
        let mut outer = Sql::new("SELECT 1 WHERE a = ");
        outer.bind(7_i64).push(" AND ").append(&inner);
        assert_eq!(
            outer.text(),
            "SELECT 1 WHERE a = $1 AND b = $2 AND c IN ($3, $4)"
        );
        assert_eq!(outer.args.len(), 4);
        assert_eq!(outer.args[1], Arg::Text("x".into()));
    }
}
