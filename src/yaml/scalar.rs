//! Plain scalars as Kubernetes reads them: go-yaml v2's YAML 1.1 resolution (what
//! `sigs.k8s.io/yaml` uses), the JSON key it makes of a plain key, and the spelling that makes
//! serde-saphyr read a plain value as Go does.
//!
//! serde-saphyr agrees with Go on everything charts usually write (`yes`, `0644`, `1_000`), but
//! not at the edges the differential tests against Go found (`tests/oracle.rs`):
//! - booleans: Go knows only `y Y yes Yes YES`, `true True TRUE`, `on On ON` and their negatives;
//!   `tRue`, `yEs` or `oN` are strings to Go and booleans to serde-saphyr;
//! - numbers: Go drops every `_` before parsing (`1__0`, `1_`, `0.1_0`, `685_230.15` are numbers
//!   to Go, strings to serde-saphyr) and reads a float that overflows (`1e400`) as a string;
//! - keys: Go turns a non-string key into its JSON spelling (`yes:` → `"true"`, `0644:` →
//!   `"420"`, `1.5e3:` → `"1500"`), where serde-saphyr keeps the key's text; a null key (`~:`)
//!   or one above `i64` cannot be read by Kubernetes at all.
//!
//! The rewrite that applies these rules to a document is in `go_compat`.

use std::borrow::Cow;

/// What go-yaml v2 makes of a plain scalar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum GoScalar {
    Null,
    Bool(bool),
    Int(i64),
    /// Only above `i64::MAX`.
    Uint(u64),
    Float(f64),
    Str,
}

/// go-yaml v2's `resolve("", plain)` (resolve.go), for untagged plain scalars.
pub(crate) fn resolve(plain: &str) -> GoScalar {
    match plain {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return GoScalar::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return GoScalar::Bool(false);
        }
        "" | "~" | "null" | "Null" | "NULL" => return GoScalar::Null,
        ".nan" | ".NaN" | ".NAN" => return GoScalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return GoScalar::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return GoScalar::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match plain.as_bytes()[0] {
        b'.' => go_parse_float(plain).map_or(GoScalar::Str, GoScalar::Float),
        b'+' | b'-' | b'0'..=b'9' => {
            if is_timestamp(plain) {
                // Go reads a timestamp into an interface{} as the string itself.
                return GoScalar::Str;
            }
            let digits = plain.replace('_', "");
            if let Some(i) = go_parse_int(&digits) {
                GoScalar::Int(i)
            } else if let Some(u) = go_parse_uint(&digits) {
                GoScalar::Uint(u)
            } else if is_yaml_float(&digits)
                && let Some(f) = go_parse_float(&digits)
            {
                GoScalar::Float(f)
            } else {
                GoScalar::Str
            }
        }
        _ => GoScalar::Str,
    }
}

/// `strconv.ParseInt(s, 0, 64)`: an optional sign, then `0x`/`0o`/`0b`/`0` prefixes.
fn go_parse_int(s: &str) -> Option<i64> {
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = i128::from(go_parse_uint(rest)?);
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

/// `strconv.ParseUint(s, 0, 64)`: no sign.
fn go_parse_uint(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// go-yaml's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// `strconv.ParseFloat(s, 64)` for the decimal spellings YAML lets through: `None` where Go
/// fails, which includes overflow to infinity.
fn go_parse_float(s: &str) -> Option<f64> {
    if !is_yaml_float(s) {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// go-yaml v2's `parseTimestamp` gate: four digits and a `-` (Go then reads it as a string
/// whether or not it is a valid date, since it is neither an integer nor a float).
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() > 4 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

/// The JSON object key `sigs.k8s.io/yaml` makes of a plain key, or why Kubernetes cannot read it.
pub(crate) fn key_string(plain: &str) -> Result<Cow<'_, str>, String> {
    Ok(match resolve(plain) {
        GoScalar::Str => Cow::Borrowed(plain),
        GoScalar::Bool(b) => Cow::Owned(b.to_string()),
        GoScalar::Int(i) => Cow::Owned(i.to_string()),
        GoScalar::Float(f) => Cow::Owned(format_float32_g(f)),
        GoScalar::Null => {
            return Err(format!(
                "the mapping key `{plain}` is null, which Kubernetes cannot read; quote it"
            ));
        }
        GoScalar::Uint(_) => {
            return Err(format!(
                "the mapping key `{plain}` is a number above 2^63-1, which Kubernetes cannot read as a key; quote it"
            ));
        }
    })
}

/// `strconv.FormatFloat(f, 'g', -1, 32)` with go-yaml's `.inf`/`.nan` spellings.
fn format_float32_g(f: f64) -> String {
    let x = f as f32;
    if x.is_nan() {
        return ".nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0");
    }
    // Rust's `{:e}` gives the shortest digits that read back as the same f32, like Go's -1.
    let e = format!("{:e}", x.abs());
    let (mantissa, exponent) = e.split_once('e').expect("`{:e}` has an exponent");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exp: i32 = exponent.parse().expect("`{:e}` exponent");
    // Go: with the shortest digits, %e when the exponent is below -4 or at least 6.
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{point}{rest}e{esign}{:02}", exp.abs());
    }
    // %f with exactly the digits there are.
    let dp = exp + 1;
    let n = digits.len() as i32;
    let text = if dp <= 0 {
        format!("0.{}{digits}", "0".repeat((-dp) as usize))
    } else if dp >= n {
        format!("{digits}{}", "0".repeat((dp - n) as usize))
    } else {
        format!("{}.{}", &digits[..dp as usize], &digits[dp as usize..])
    };
    format!("{sign}{text}")
}

/// The spelling of a plain value that serde-saphyr reads as Go reads `plain`, if it differs.
pub(crate) fn value_spelling(plain: &str) -> Option<String> {
    let first = *plain.as_bytes().first()?;
    // Only these can be anything but a string to either parser.
    let candidate = matches!(first, b'+' | b'-' | b'.' | b'0'..=b'9' | b'~')
        || matches!(
            plain.to_ascii_lowercase().as_str(),
            "y" | "yes" | "n" | "no" | "true" | "false" | "on" | "off" | "null"
        );
    if !candidate {
        return None;
    }
    let spelling = match resolve(plain) {
        GoScalar::Str => quoted(plain),
        GoScalar::Null => "null".into(),
        GoScalar::Bool(b) => b.to_string(),
        GoScalar::Int(i) => i.to_string(),
        GoScalar::Uint(u) => u.to_string(),
        // `{:?}` always has a `.` or an exponent, so it stays a float; `.inf`/`.nan` are left to
        // the parser, which rejects them as Kubernetes does (JSON cannot hold them).
        GoScalar::Float(f) if f.is_finite() => format!("{f:?}"),
        GoScalar::Float(_) => return None,
    };
    (spelling != plain).then_some(spelling)
}

/// A double-quoted YAML scalar (JSON's string syntax is valid YAML).
pub(crate) fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_go_yaml_v2() {
        use GoScalar::*;
        for (text, want) in [
            ("yes", Bool(true)),
            ("yEs", Str),
            ("OFF", Bool(false)),
            ("oN", Str),
            ("~", Null),
            ("0644", Int(420)),
            ("0o644", Int(420)),
            ("-0x1F", Int(-31)),
            ("0b101", Int(5)),
            ("1__0", Int(10)),
            ("1_", Int(1)),
            ("08", Float(8.0)),
            ("0.1_0", Float(0.1)),
            ("685_230.15", Float(685230.15)),
            ("1e400", Str),
            ("1e-400", Float(0.0)),
            ("9223372036854775808", Uint(9223372036854775808)),
            ("-9223372036854775809", Float(-9223372036854775809.0)),
            ("2001-12-14", Str),
            ("1.2.3", Str),
            ("+", Str),
            ("0x", Str),
            (".5", Float(0.5)),
            ("._5", Str),
        ] {
            assert_eq!(resolve(text), want, "{text}");
        }
    }

    #[test]
    fn keys_like_sigs_k8s_yaml() {
        for (text, want) in [
            ("yes", "true"),
            ("No", "false"),
            ("0644", "420"),
            ("1.5e3", "1500"),
            ("6.8523015e+5", "685230.1"),
            ("123456789012345678901234", "1.2345679e+23"),
            ("0.0000000000000000000001", "1e-22"),
            ("-.5E-3", "-0.0005"),
            ("-0.0", "-0"),
            ("1e6", "1e+06"),
            ("123456", "123456"),
            ("123456.5", "123456.5"),
            (".inf", ".inf"),
            ("name", "name"),
        ] {
            assert_eq!(key_string(text).unwrap(), want, "{text}");
        }
        assert!(key_string("~").is_err());
        assert!(key_string("18446744073709551615").is_err());
    }
}
