//! Several statements sent to the database as one.
//!
//! On SQLite every statement is a round trip to the connection's worker thread, and inside a
//! write transaction (see [`crate::group_commit`]) those hand-offs, not SQLite itself, are
//! what a write costs: a dozen statements spend most of their time waking threads. A
//! [`Batch`] joins statements into one multi-statement query on SQLite (their `$N`
//! parameters renumbered to follow one another), so they run in one hand-off, in order.
//! PostgreSQL's protocol takes one statement with parameters at a time: there the batch runs
//! them one after another on the same connection. Either way they run on the caller's
//! connection, inside its transaction, and stop at the first error.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, Arguments, Encode, Type};

use crate::db::Conn;

/// Statements to run together, in order. Add each with [`Batch::add`] followed by its
/// parameters with [`Batch::bind`], numbered `$1`, `$2`, ... within the statement.
pub struct Batch {
    sqlite: bool,
    /// SQLite: the statements so far, joined, and all their parameters.
    joined: String,
    args: AnyArguments<'static>,
    /// PostgreSQL: each statement with its own parameters.
    statements: Vec<(String, AnyArguments<'static>)>,
    error: Option<sqlx::error::BoxDynError>,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("sqlite", &self.sqlite)
            .field("statements", &self.statements.len())
            .finish_non_exhaustive()
    }
}

impl Batch {
    /// An empty batch for `conn`'s database.
    pub fn new(conn: &Conn) -> Batch {
        Batch::with_backend(conn.backend_name().eq_ignore_ascii_case("sqlite"))
    }

    /// An empty batch for `db`'s database, to hand to [`crate::Db::write_batch`].
    pub fn for_db(db: &crate::Db) -> Batch {
        Batch::with_backend(db.backend() == crate::Backend::Sqlite)
    }

    fn with_backend(sqlite: bool) -> Batch {
        Batch {
            sqlite,
            joined: String::new(),
            args: AnyArguments::default(),
            statements: Vec::new(),
            error: None,
        }
    }

    /// Adds a statement; its parameters follow with [`Batch::bind`].
    pub fn add(&mut self, sql: &str) -> &mut Self {
        if self.sqlite {
            if !self.joined.is_empty() {
                self.joined.push_str(";\n");
            }
            self.joined.push_str(&renumber(sql, self.args.len()));
        } else {
            self.statements
                .push((sql.to_owned(), AnyArguments::default()));
        }
        self
    }

    /// Puts `sql`, statements without parameters, in front of those added so far.
    pub fn prepend(&mut self, sql: &str) -> &mut Self {
        if self.sqlite {
            // No parameters: the others keep their numbers.
            self.joined = if self.joined.is_empty() {
                sql.to_owned()
            } else {
                format!("{sql};\n{}", self.joined)
            };
        } else {
            self.statements
                .insert(0, (sql.to_owned(), AnyArguments::default()));
        }
        self
    }

    /// Binds the next parameter of the statement added last.
    pub fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'static + Encode<'static, Any> + Type<Any>,
    {
        let args = if self.sqlite {
            &mut self.args
        } else if let Some((_, args)) = self.statements.last_mut() {
            args
        } else {
            self.error
                .get_or_insert_with(|| "a parameter bound before any statement".into());
            return self;
        };
        if let Err(e) = args.add(value) {
            self.error.get_or_insert(e);
        }
        self
    }

    /// The error a parameter met while being bound, if any (the batch then runs nothing).
    pub(crate) fn take_error(&mut self) -> Option<sqlx::error::BoxDynError> {
        self.error.take()
    }

    /// Runs the statements; the rows they changed, added up.
    pub async fn execute(self, conn: &mut Conn) -> Result<u64, sqlx::Error> {
        if let Some(e) = self.error {
            return Err(sqlx::Error::Encode(e));
        }
        if self.sqlite {
            if self.joined.is_empty() {
                return Ok(0);
            }
            let done = sqlx::query_with(&self.joined, self.args)
                .execute(&mut *conn)
                .await?;
            return Ok(done.rows_affected());
        }
        let mut changed = 0;
        for (sql, args) in self.statements {
            changed += sqlx::query_with(&sql, args)
                .execute(&mut *conn)
                .await?
                .rows_affected();
        }
        Ok(changed)
    }

    /// Runs the statements; every row they return, in order.
    pub async fn fetch_all(self, conn: &mut Conn) -> Result<Vec<AnyRow>, sqlx::Error> {
        if let Some(e) = self.error {
            return Err(sqlx::Error::Encode(e));
        }
        if self.sqlite {
            if self.joined.is_empty() {
                return Ok(Vec::new());
            }
            return sqlx::query_with(&self.joined, self.args)
                .fetch_all(&mut *conn)
                .await;
        }
        let mut rows = Vec::new();
        for (sql, args) in self.statements {
            rows.extend(sqlx::query_with(&sql, args).fetch_all(&mut *conn).await?);
        }
        Ok(rows)
    }
}

/// `sql` with each `$N` outside string literals and quoted names turned into `$(N + by)`.
fn renumber(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') if chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut n = 0usize;
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    n = n * 10 + d as usize;
                    chars.next();
                }
                out.push('$');
                out.push_str(&(n + by).to_string());
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::renumber;

    #[test]
    fn parameters_are_renumbered_outside_literals_only() {
        assert_eq!(
            renumber(
                "UPDATE t SET a = $1, b = '$2', \"c$3\" = $12 WHERE d = $2",
                5
            ),
            "UPDATE t SET a = $6, b = '$2', \"c$3\" = $17 WHERE d = $7"
        );
        assert_eq!(renumber("SELECT $1", 0), "SELECT $1");
        // An escaped quote inside a literal ('it''s') closes and reopens it: still a literal.
        assert_eq!(
            renumber("SELECT 'it''s $1', $1", 3),
            "SELECT 'it''s $1', $4"
        );
    }
}
