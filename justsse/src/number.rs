//! Canonical decimal integers: the one spelling of a number this crate accepts
//! in a path parameter or an event id, so `/tickets/1`, `/tickets/+1` and
//! `/tickets/0001` are not three names of one resource.

/// Whether `text` is an integer written the canonical way: `0`, or digits not
/// starting with `0`, with a leading `-` only when `signed` (and never `-0`).
pub(crate) fn is_canonical_integer(text: &str, signed: bool) -> bool {
    let digits = match text.strip_prefix('-') {
        Some(rest) if signed => rest,
        Some(_) => return false,
        None => text,
    };
    match digits.as_bytes() {
        [] => false,
        [b'0'] => digits.len() == text.len(),
        [first, rest @ ..] => (b'1'..=b'9').contains(first) && rest.iter().all(u8::is_ascii_digit),
    }
}

/// `text` as a `u64` if it is canonical (see [`is_canonical_integer`]).
pub(crate) fn canonical_u64(text: &str) -> Option<u64> {
    if is_canonical_integer(text, false) {
        text.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_canonical_spelling_is_accepted() {
        let cases = [
            ("0", true, true),
            ("1", true, true),
            ("42", true, true),
            ("18446744073709551615", true, true),
            ("-1", false, true),
            ("-0", false, false),
            ("+1", false, false),
            ("0001", false, false),
            ("01", false, false),
            ("00", false, false),
            ("", false, false),
            ("-", false, false),
            (" 1", false, false),
            ("1 ", false, false),
            ("1_000", false, false),
            ("1e3", false, false),
            ("٣", false, false),
        ];
        for (text, unsigned, signed) in cases {
            assert_eq!(
                is_canonical_integer(text, false),
                unsigned,
                "{text:?} unsigned"
            );
            assert_eq!(is_canonical_integer(text, true), signed, "{text:?} signed");
        }
    }

    #[test]
    fn canonical_u64_reads_only_canonical_numbers() {
        assert_eq!(canonical_u64("15"), Some(15));
        assert_eq!(canonical_u64("+15"), None);
        assert_eq!(canonical_u64("015"), None);
        assert_eq!(canonical_u64("18446744073709551616"), None);
    }
}
