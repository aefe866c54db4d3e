//! Rows held back and sent together: a batch's inserts cost a round trip to PostgreSQL each
//! when sent one by one (the ingest's 100-record push made ~1,300 of them), and one per few
//! dozen rows as multi-row `INSERT`s.
//!
//! Only an `INSERT INTO t (…) VALUES (…)` with an optional tail that binds nothing (an
//! `ON CONFLICT … DO UPDATE SET c = excluded.c`) may be held. The session sends what it
//! holds before anything else it is asked to run, so no read ever misses a held row, and a
//! commit sends them first. Rows of the same statement go out together, in the order their
//! statement was first held: a parent table's rows are held before its children's, so they
//! still arrive first.

use rusqlite::types::Value;

/// Rows per multi-row statement, largest first: a group of any size goes out in a few
/// statements drawn from a handful of shapes, so the prepared statements stay few.
const CHUNKS: [usize; 7] = [64, 32, 16, 8, 4, 2, 1];

/// One `INSERT … VALUES (…) [tail]` split where rows can be repeated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// Up to and including `VALUES `.
    head: String,
    /// The row's tuple, placeholders numbered from 1.
    tuple: String,
    /// What follows the tuple; binds nothing.
    tail: String,
    /// Values each row binds.
    width: usize,
}

impl Shape {
    /// `sql` split for repeating, or `None` when it is not a statement that may be held.
    pub fn of(sql: &str) -> Option<Shape> {
        let trimmed = sql.trim();
        if !trimmed
            .get(..7)
            .is_some_and(|start| start.eq_ignore_ascii_case("INSERT "))
        {
            return None;
        }
        let upper = trimmed.to_ascii_uppercase();
        let values = upper.find(" VALUES")?;
        let open = values + trimmed[values..].find('(')?;
        let close = open + matching_paren(&trimmed[open..])?;
        let tuple = &trimmed[open..=close];
        let tail = &trimmed[close + 1..];
        if tail.contains('?') || tail.contains(';') || upper.contains(" RETURNING") {
            return None;
        }
        let width = placeholders(tuple)?;
        Some(Shape {
            head: format!("{} ", trimmed[..open].trim_end()),
            tuple: tuple.to_owned(),
            tail: tail.to_owned(),
            width,
        })
    }

    /// The statement for `rows` rows, placeholders numbered on through every tuple.
    pub fn repeated(&self, rows: usize) -> String {
        let mut sql = self.head.clone();
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&renumbered(&self.tuple, row * self.width));
        }
        sql.push_str(&self.tail);
        sql
    }

    pub fn width(&self) -> usize {
        self.width
    }
}

/// How many rows each statement for a group of `rows` rows carries.
pub fn chunks(rows: usize) -> Vec<usize> {
    let mut left = rows;
    let mut out = Vec::new();
    for size in CHUNKS {
        while left >= size {
            out.push(size);
            left -= size;
        }
    }
    out
}

/// Held rows, grouped by statement in the order each statement was first held.
#[derive(Debug, Default)]
pub struct Held {
    groups: Vec<(Shape, Vec<Vec<Value>>)>,
}

impl Held {
    pub fn push(&mut self, shape: Shape, row: Vec<Value>) {
        match self.groups.iter_mut().find(|(s, _)| *s == shape) {
            Some((_, rows)) => rows.push(row),
            None => self.groups.push((shape, vec![row])),
        }
    }

    /// Forgets every held row (the transaction rolled back).
    pub fn clear(&mut self) {
        self.groups.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Every held row, emptying the holder: each statement with the rows it carries.
    pub fn take(&mut self) -> Vec<(String, Vec<Value>)> {
        let mut out = Vec::new();
        for (shape, rows) in std::mem::take(&mut self.groups) {
            let mut rows = rows.into_iter();
            for size in chunks(rows.len()) {
                let values: Vec<Value> = rows.by_ref().take(size).flatten().collect();
                out.push((shape.repeated(size), values));
            }
        }
        out
    }
}

/// The offset of the `)` closing the `(` that `text` starts with, quotes respected.
fn matching_paren(text: &str) -> Option<usize> {
    let mut depth = 0;
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The values a tuple binds: its placeholders must be `?1` … `?n`, each at least once and
/// none unnumbered.
fn placeholders(tuple: &str) -> Option<usize> {
    let mut seen = Vec::new();
    let mut numbered = true;
    map_placeholders(tuple, |n| {
        match n {
            Some(n) if n > 0 => seen.push(n),
            _ => numbered = false,
        }
        String::new()
    });
    let width = seen.iter().copied().max().filter(|_| numbered)?;
    (1..=width).all(|n| seen.contains(&n)).then_some(width)
}

/// `tuple` with every `?n` outside quotes turned into `?(n + offset)`.
fn renumbered(tuple: &str, offset: usize) -> String {
    map_placeholders(tuple, |n| {
        format!("?{}", n.expect("checked by Shape::of") + offset)
    })
}

/// `text` with each placeholder outside quotes replaced by what `each` makes of its number
/// (`None`: a bare `?`, or one too large to read).
fn map_placeholders(text: &str, mut each: impl FnMut(Option<usize>) -> String) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    let mut quote = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '?') => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                out.push_str(&each(digits.parse().ok()));
                continue;
            }
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            _ => {}
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_insert_is_repeated_with_its_placeholders_numbered_on() {
        let shape = Shape::of(
            "INSERT INTO stock_levels (org_id, product_id, location_id, on_hand_milli)
             VALUES (?1, ?2, COALESCE(?3, ''), ?4)
             ON CONFLICT (org_id, product_id, location_id) DO UPDATE SET on_hand_milli = excluded.on_hand_milli",
        )
        .unwrap();
        assert_eq!(shape.width(), 4);
        let sql = shape.repeated(2);
        assert!(
            sql.contains("VALUES (?1, ?2, COALESCE(?3, ''), ?4), (?5, ?6, COALESCE(?7, ''), ?8)"),
            "{sql}"
        );
        assert!(
            sql.ends_with("on_hand_milli = excluded.on_hand_milli"),
            "{sql}"
        );
    }

    #[test]
    fn only_plain_inserts_whose_tail_binds_nothing_may_be_held() {
        for sql in [
            "SELECT 1",
            "UPDATE t SET a = ?1",
            "INSERT INTO t (a) SELECT ?1",
            "INSERT INTO t (a) VALUES (?1) RETURNING a",
            "INSERT INTO t (a) VALUES (?1) ON CONFLICT (a) DO UPDATE SET a = ?1",
            "INSERT INTO t (a, b) VALUES (?1, ?)",
            "INSERT INTO t (a, b) VALUES (?1, ?3)",
            "INSERT INTO t (a) VALUES ('?1')",
        ] {
            assert_eq!(Shape::of(sql), None, "{sql}");
        }
        assert!(Shape::of("insert into t (a) values (?1)").is_some());
    }

    #[test]
    fn groups_go_out_in_the_order_first_held_in_a_few_statement_sizes() {
        assert_eq!(chunks(0), Vec::<usize>::new());
        assert_eq!(chunks(150), vec![64, 64, 16, 4, 2]);
        assert_eq!(chunks(150).iter().sum::<usize>(), 150);

        let parent = Shape::of("INSERT INTO sales (id) VALUES (?1)").unwrap();
        let child = Shape::of("INSERT INTO sale_lines (sale_id, n) VALUES (?1, ?2)").unwrap();
        let mut held = Held::default();
        for i in 0..3_i64 {
            held.push(parent.clone(), vec![Value::Integer(i)]);
            held.push(child.clone(), vec![Value::Integer(i), Value::Integer(1)]);
        }
        let sent = held.take();
        assert!(held.is_empty());
        let statements: Vec<&str> = sent.iter().map(|(sql, _)| sql.as_str()).collect();
        assert_eq!(statements[0], "INSERT INTO sales (id) VALUES (?1), (?2)");
        assert_eq!(sent[0].1, vec![Value::Integer(0), Value::Integer(1)]);
        assert_eq!(statements[1], "INSERT INTO sales (id) VALUES (?1)");
        assert_eq!(
            statements[2],
            "INSERT INTO sale_lines (sale_id, n) VALUES (?1, ?2), (?3, ?4)"
        );
        assert_eq!(statements.len(), 4);
        assert_eq!(
            sent.iter().map(|(_, v)| v.len()).sum::<usize>(),
            3 + 3 * 2,
            "every value sent once"
        );
    }
}
