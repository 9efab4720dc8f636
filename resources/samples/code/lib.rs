/// Parse a temperature like "21.5C" or "70F" and return degrees Celsius.
pub fn parse_celsius(input: &str) -> Option<f64> {
    let input = input.trim();
    let (number, unit) = input.split_at(input.len().checked_sub(1)?);
    let value: f64 = number.parse().ok()?;
    match unit {
        "C" | "c" => Some(value),
        "F" | "f" => Some((value - 32.0) * 5.0 / 9.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_fahrenheit() {
        assert_eq!(parse_celsius("212F"), Some(100.0));
    }
}
