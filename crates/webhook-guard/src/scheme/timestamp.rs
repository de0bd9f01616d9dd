//! Parsing a signed Unix timestamp and checking it against the receiver's clock.

use std::time::Duration;

use crate::VerifyError;

/// Parses a timestamp strictly: ASCII digits only (no sign, no spaces, no exponent, no fraction),
/// at most 19 of them, and a value that fits in an `i64`.
pub(crate) fn parse(raw: &[u8]) -> Result<i64, VerifyError> {
    if raw.is_empty() || raw.len() > 19 || !raw.iter().all(u8::is_ascii_digit) {
        return Err(VerifyError::InvalidTimestamp);
    }
    let mut value: i64 = 0;
    for digit in raw {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(digit - b'0')))
            .ok_or(VerifyError::InvalidTimestamp)?;
    }
    Ok(value)
}

/// Accepts `timestamp` when `|now - timestamp| <= tolerance`, the bound itself included.
pub(crate) fn check(timestamp: i64, now: i64, tolerance: Duration) -> Result<(), VerifyError> {
    let skew = i128::from(now) - i128::from(timestamp);
    if skew.unsigned_abs() <= u128::from(tolerance.as_secs()) {
        Ok(())
    } else {
        Err(VerifyError::TimestampOutOfTolerance {
            skew_seconds: i64::try_from(skew).unwrap_or(if skew > 0 { i64::MAX } else { i64::MIN }),
            tolerance_seconds: tolerance.as_secs(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_decimal_only() {
        assert_eq!(parse(b"1614265330"), Ok(1_614_265_330));
        assert_eq!(parse(b"0"), Ok(0));
        assert_eq!(parse(b"9223372036854775807"), Ok(i64::MAX));
        for bad in [
            &b""[..],
            b"-1",
            b"+123",
            b" 123",
            b"123 ",
            b"1e9",
            b"12.5",
            b"9223372036854775808",
            b"99999999999999999999",
            b"0x10",
            "١٢٣".as_bytes(),
        ] {
            assert_eq!(parse(bad), Err(VerifyError::InvalidTimestamp), "{bad:?}");
        }
    }

    #[test]
    fn tolerance_is_symmetric_and_inclusive() {
        let tol = Duration::from_secs(300);
        assert!(check(1000, 1300, tol).is_ok());
        assert!(check(1300, 1000, tol).is_ok());
        assert!(check(1000, 1301, tol).is_err());
        assert!(check(1301, 1000, tol).is_err());
        assert_eq!(
            check(i64::MAX, i64::MIN, tol),
            Err(VerifyError::TimestampOutOfTolerance {
                skew_seconds: i64::MIN,
                tolerance_seconds: 300
            })
        );
    }
}
