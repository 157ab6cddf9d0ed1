//! Number formatting shared by the report and the sample: digits grouped in thousands the way a
//! spreadsheet shows them.

/// `1234567` as "1,234,567", `-1500` as "-1,500".
pub fn group_thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// An amount of money as "1,234.50", "-0.01": grouped, two decimals, rounded half away from zero.
pub fn group_thousands_decimal(value: rust_decimal::Decimal) -> String {
    let mut rounded =
        value.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    let cents = rounded.mantissa();
    let whole = (cents.unsigned_abs() / 100) as i64;
    let sign = if cents < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:02}",
        group_thousands(whole),
        cents.unsigned_abs() % 100
    )
}

#[cfg(test)]
mod tests {
    use super::{group_thousands, group_thousands_decimal};
    use rust_decimal::Decimal;

    #[test]
    fn money_is_grouped_with_two_decimals_and_its_sign() {
        assert_eq!(
            group_thousands_decimal(Decimal::new(123_450, 2)),
            "1,234.50"
        );
        assert_eq!(group_thousands_decimal(Decimal::new(-1, 2)), "-0.01");
        assert_eq!(
            group_thousands_decimal(Decimal::new(-1_234_567_895, 3)),
            "-1,234,567.90"
        );
        assert_eq!(group_thousands_decimal(Decimal::ZERO), "0.00");
    }

    #[test]
    fn groups_in_threes_with_the_sign_in_front() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(group_thousands(-1_500), "-1,500");
    }
}
