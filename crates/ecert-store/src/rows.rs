//! From rows to records. Each table's private row struct derives `sqlx::FromRow` with exactly the
//! types the `Any` driver decodes on both SQLite and PostgreSQL — `String` (TEXT), `i64`
//! (BIGINT), `Vec<u8>` (BYTEA) and `Option`s of them — and is read with the table's one column
//! list. Its conversion into the public record narrows what the record narrows (status text to
//! an enum, hashes to 32 bytes, 0/1 to `bool`) and names the column and the value it found when
//! a stored value is impossible ([`StoreError::CorruptColumn`]).

use crate::error::{Result, StoreError};

/// A stored row: its table and key, to name where a bad value was found.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<'a> {
    /// Table name.
    pub(crate) table: &'static str,
    /// Key of the row.
    pub(crate) key: &'a str,
}

impl At<'_> {
    /// `column` holds `value` (already formatted), not `expected`.
    pub(crate) fn corrupt(
        self,
        column: &'static str,
        value: String,
        expected: &'static str,
    ) -> StoreError {
        StoreError::CorruptColumn {
            table: self.table,
            key: self.key.to_owned(),
            column,
            value,
            expected,
        }
    }

    /// A text column holds `value`, none of the texts the store writes.
    pub(crate) fn unknown(
        self,
        column: &'static str,
        value: &str,
        expected: &'static str,
    ) -> StoreError {
        self.corrupt(column, format!("{value:?}"), expected)
    }

    /// An SM3 hash: exactly 32 bytes.
    pub(crate) fn hash(self, column: &'static str, value: Vec<u8>) -> Result<[u8; 32]> {
        let n = value.len();
        value
            .try_into()
            .map_err(|_| self.corrupt(column, format!("{n} bytes"), "32 bytes (an SM3 hash)"))
    }

    /// A flag stored as 0 or 1.
    pub(crate) fn flag(self, column: &'static str, value: i64) -> Result<bool> {
        match value {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(self.corrupt(column, other.to_string(), "0 or 1")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_are_named() {
        let at = At {
            table: "certificates",
            key: "abc",
        };
        assert_eq!(at.hash("file_sm3", vec![7; 32]).unwrap(), [7; 32]);
        let e = at.hash("file_sm3", vec![7; 31]).unwrap_err();
        assert!(
            matches!(
                &e,
                StoreError::CorruptColumn { table: "certificates", key, column: "file_sm3", value, .. }
                    if key == "abc" && value == "31 bytes"
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "corrupt record in certificates (abc): column file_sm3 holds 31 bytes, expected 32 \
             bytes (an SM3 hash)"
        );
        assert!(at.flag("enabled", 1).unwrap());
        assert!(!at.flag("enabled", 0).unwrap());
        let e = at.flag("enabled", 2).unwrap_err();
        assert!(
            matches!(&e, StoreError::CorruptColumn { column: "enabled", value, .. } if value == "2"),
            "{e:?}"
        );
        let e = at.unknown("status", "void", "valid or revised");
        assert!(
            matches!(&e, StoreError::CorruptColumn { column: "status", value, .. } if value == "\"void\""),
            "{e:?}"
        );
    }
}
