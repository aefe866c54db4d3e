//! PostgreSQL values in SQLite's value model, both ways.
//!
//! Parameters are bound by the type PostgreSQL inferred for the placeholder, not by the Rust
//! type: an `i64` bound where PostgreSQL expects text is sent as its decimal text, a 0/1 to a
//! boolean as `false`/`true`. Columns are read back as the SQLite value they would have been
//! (booleans as 0/1, every integer width as INTEGER, NUMERIC — what `SUM` of a BIGINT gives
//! — as INTEGER when whole), and then through rusqlite's own `FromSql`, so a domain type
//! that reads itself from SQLite reads itself from PostgreSQL unchanged.

use std::error::Error as StdError;

use bytes::BytesMut;
use postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use rusqlite::types::{FromSqlError, Value, ValueRef};

type BoxError = Box<dyn StdError + Sync + Send>;

/// A parameter on its way to PostgreSQL.
#[derive(Debug)]
pub struct Param(pub Value);

impl Param {
    pub fn from_rusqlite(value: &dyn rusqlite::types::ToSql) -> rusqlite::Result<Self> {
        use rusqlite::types::ToSqlOutput;
        Ok(Param(match value.to_sql()? {
            ToSqlOutput::Borrowed(v) => match v {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::Integer(i),
                ValueRef::Real(f) => Value::Real(f),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            },
            ToSqlOutput::Owned(v) => v,
            other => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    format!("cannot send {other:?} to PostgreSQL").into(),
                ))
            }
        }))
    }
}

fn mismatch(value: &Value, ty: &Type) -> BoxError {
    format!("cannot bind {:?} to a PostgreSQL {ty}", value.data_type()).into()
}

impl ToSql for Param {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match &self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::NUMERIC => {
                    numeric_from_i64(*i, out);
                    Ok(IsNull::No)
                }
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    i.to_string().as_str().to_sql(&Type::TEXT, out)
                }
                _ if is_text_like(ty) => {
                    out.extend_from_slice(i.to_string().as_bytes());
                    Ok(IsNull::No)
                }
                _ => Err(mismatch(&self.0, ty)),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => Err(mismatch(&self.0, ty)),
            },
            Value::Text(s) => match *ty {
                Type::BYTEA => s.as_bytes().to_sql(ty, out),
                Type::INT8 | Type::INT4 | Type::INT2 | Type::BOOL | Type::FLOAT8 | Type::FLOAT4 => {
                    Err(mismatch(&self.0, ty))
                }
                // TEXT, VARCHAR, citext and the other text-like types all take UTF-8 bytes.
                // PostgreSQL's text cannot hold U+0000, which SQLite's can: it is stored as
                // U+FFFD (docs/decisions/server-store.md). Where a till's exact text matters,
                // its journal payload keeps it, escaped as JSON does.
                _ if s.contains('\0') => {
                    out.extend_from_slice(s.replace('\0', "\u{FFFD}").as_bytes());
                    Ok(IsNull::No)
                }
                _ => {
                    out.extend_from_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.as_slice().to_sql(ty, out),
                _ => Err(mismatch(&self.0, ty)),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// citext and the other extension types with text's binary format.
fn is_text_like(ty: &Type) -> bool {
    matches!(ty.kind(), postgres::types::Kind::Simple) && ty.oid() >= 16384
}

/// NUMERIC's binary form of a whole number: base-10000 digits, most significant first.
fn numeric_from_i64(value: i64, out: &mut BytesMut) {
    let negative = value < 0;
    let mut magnitude = value.unsigned_abs();
    let mut digits = Vec::new();
    while magnitude > 0 {
        digits.push((magnitude % 10_000) as i16);
        magnitude /= 10_000;
    }
    digits.reverse();
    let weight = digits.len() as i16 - 1;
    out.extend_from_slice(&(digits.len() as i16).to_be_bytes());
    out.extend_from_slice(&weight.max(0).to_be_bytes());
    out.extend_from_slice(&(if negative { 0x4000u16 } else { 0 }).to_be_bytes());
    out.extend_from_slice(&0i16.to_be_bytes());
    for d in digits {
        out.extend_from_slice(&d.to_be_bytes());
    }
}

/// A column's raw bytes, whatever its type.
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Raw(Some(raw)))
    }
    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Raw(None))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Column `index` of `row` as the SQLite value it stands for.
pub fn value(row: &postgres::Row, index: usize) -> rusqlite::Result<Value> {
    let ty = row.columns()[index].type_().clone();
    let bad = |e: BoxError| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Null, e)
    };
    let Raw(raw) = row.try_get::<_, Raw>(index).map_err(|e| bad(e.into()))?;
    let Some(raw) = raw else {
        return Ok(Value::Null);
    };
    Ok(match ty {
        Type::BOOL => Value::Integer(i64::from(bool::from_sql(&ty, raw).map_err(bad)?)),
        Type::INT2 => Value::Integer(i16::from_sql(&ty, raw).map_err(bad)?.into()),
        Type::INT4 => Value::Integer(i32::from_sql(&ty, raw).map_err(bad)?.into()),
        Type::INT8 => Value::Integer(i64::from_sql(&ty, raw).map_err(bad)?),
        Type::OID => Value::Integer(u32::from_sql(&ty, raw).map_err(bad)?.into()),
        Type::FLOAT4 => Value::Real(f32::from_sql(&ty, raw).map_err(bad)?.into()),
        Type::FLOAT8 => Value::Real(f64::from_sql(&ty, raw).map_err(bad)?),
        Type::NUMERIC => numeric(raw).map_err(bad)?,
        Type::BYTEA => Value::Blob(raw.to_vec()),
        _ => Value::Text(
            std::str::from_utf8(raw)
                .map_err(|e| bad(format!("column of type {ty} is not text: {e}").into()))?
                .to_owned(),
        ),
    })
}

/// Reads column `index` into `T` through rusqlite's conversions.
pub fn read<T: rusqlite::types::FromSql>(row: &postgres::Row, index: usize) -> rusqlite::Result<T> {
    let value = value(row, index)?;
    T::column_result(ValueRef::from(&value)).map_err(|e| match e {
        FromSqlError::InvalidType => rusqlite::Error::InvalidColumnType(
            index,
            row.columns()[index].name().to_owned(),
            value.data_type(),
        ),
        FromSqlError::OutOfRange(i) => rusqlite::Error::IntegralValueOutOfRange(index, i),
        other => {
            rusqlite::Error::FromSqlConversionFailure(index, value.data_type(), Box::new(other))
        }
    })
}

/// NUMERIC's binary form: INTEGER when it is whole and fits, REAL otherwise.
fn numeric(raw: &[u8]) -> Result<Value, BoxError> {
    let word = |i: usize| -> Result<i16, BoxError> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated NUMERIC".into())
    };
    let (ndigits, weight, sign, dscale) = (word(0)?, word(1)?, word(2)? as u16, word(3)?);
    if sign == 0xC000 {
        return Ok(Value::Real(f64::NAN));
    }
    let mut whole: i128 = 0;
    let mut fraction = 0f64;
    let mut whole_fits = true;
    for k in 0..ndigits as usize {
        let digit = i128::from(word(4 + k)?);
        let power = i32::from(weight) - k as i32;
        if power >= 0 {
            match 10_000i128
                .checked_pow(power as u32)
                .and_then(|p| p.checked_mul(digit))
                .and_then(|v| whole.checked_add(v))
            {
                Some(v) => whole = v,
                None => whole_fits = false,
            }
        } else {
            fraction += digit as f64 * 10_000f64.powi(power);
        }
    }
    let negative = sign == 0x4000;
    if fraction == 0.0 && whole_fits {
        if let Ok(v) = i64::try_from(if negative { -whole } else { whole }) {
            return Ok(Value::Integer(v));
        }
    }
    let _ = dscale;
    let magnitude = whole as f64 + fraction;
    Ok(Value::Real(if negative { -magnitude } else { magnitude }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numerics_come_back_as_the_integers_they_were() {
        for v in [
            0i64,
            1,
            -1,
            9_999,
            10_000,
            123_456_789,
            -98_765_432_101,
            i64::MAX,
            i64::MIN + 1,
        ] {
            let mut out = BytesMut::new();
            numeric_from_i64(v, &mut out);
            assert_eq!(numeric(&out).unwrap(), Value::Integer(v), "{v}");
        }
    }

    #[test]
    fn a_fractional_numeric_is_a_real() {
        // 12.5: one digit 12 at weight 0, one digit 5000 at weight -1.
        let raw = [0, 2, 0, 0, 0, 0, 0, 1, 0, 12, 0x13, 0x88];
        assert_eq!(numeric(&raw).unwrap(), Value::Real(12.5));
    }
}
