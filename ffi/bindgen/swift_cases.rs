//! Swift's error cases in lowerCamelCase, as Swift's API guidelines and every other enum of the
//! bindings have them. uniffi 0.32 writes the cases of an error enum in UpperCamelCase with no
//! option to change it (mozilla/uniffi-rs#2262), so the generator's Swift output is rewritten
//! here, in the one place both the generator (`src/bin/uniffi-bindgen.rs`) and the bindings
//! drift test use: the cases of `enum FieldsalesError` and every `.Case` inside the enum and
//! its converter. A case whose lowered name is a Swift keyword is written in backticks.

/// Words Swift reserves in declarations: a case named so needs backticks.
const KEYWORDS: &[&str] = &[
    "associatedtype",
    "class",
    "deinit",
    "enum",
    "extension",
    "fileprivate",
    "func",
    "import",
    "init",
    "inout",
    "internal",
    "let",
    "open",
    "operator",
    "private",
    "protocol",
    "public",
    "rethrows",
    "static",
    "struct",
    "subscript",
    "typealias",
    "var",
    "break",
    "case",
    "continue",
    "default",
    "defer",
    "do",
    "else",
    "fallthrough",
    "for",
    "guard",
    "if",
    "in",
    "repeat",
    "return",
    "switch",
    "where",
    "while",
    "as",
    "catch",
    "false",
    "is",
    "nil",
    "super",
    "self",
    "throw",
    "throws",
    "true",
    "try",
];

/// The error enum whose cases are rewritten, and its converter.
const ENUM: &str = "enum FieldsalesError:";
const CONVERTER: &str = "public struct FfiConverterTypeFieldsalesError:";

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn spelled(name: &str) -> String {
    let lower = lower_first(name);
    if KEYWORDS.contains(&lower.as_str()) {
        format!("`{lower}`")
    } else {
        lower
    }
}

/// The end of the block that starts at `from` (the first line `}` at column 0 after it).
fn block_end(text: &str, from: usize) -> Option<usize> {
    text[from..].find("\n}\n").map(|at| from + at + 3)
}

/// Whether `c` may continue a Swift identifier.
fn ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Replaces `old` by `new` in `text` wherever it is not followed by an identifier character.
fn replace_word(text: &str, old: &str, new: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(old) {
        let after = rest[at + old.len()..].chars().next();
        out.push_str(&rest[..at]);
        if after.is_some_and(ident) {
            out.push_str(old);
        } else {
            out.push_str(new);
        }
        rest = &rest[at + old.len()..];
    }
    out.push_str(rest);
    out
}

/// `swift` with the error enum's cases in lowerCamelCase; unchanged when it has no such enum.
pub fn lower_error_cases(swift: &str) -> String {
    let Some(start) = swift.find(ENUM) else {
        return swift.to_string();
    };
    let Some(enum_end) = block_end(swift, start) else {
        return swift.to_string();
    };
    let end = swift[enum_end..]
        .find(CONVERTER)
        .and_then(|at| block_end(swift, enum_end + at))
        .unwrap_or(enum_end);
    let names: Vec<String> = swift[start..enum_end]
        .lines()
        .filter_map(|line| line.strip_prefix("    case "))
        .map(|rest| rest.chars().take_while(|c| ident(*c)).collect::<String>())
        .filter(|name| name.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect();
    let mut region = swift[start..end].to_string();
    for name in &names {
        let new = spelled(name);
        region = replace_word(
            &region,
            &format!("\n    case {name}"),
            &format!("\n    case {new}"),
        );
        region = replace_word(&region, &format!(".{name}"), &format!(".{new}"));
    }
    format!("{}{}{}", &swift[..start], region, &swift[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cases_and_their_uses_are_lowered_and_nothing_else() {
        let swift = "public enum Other: Equatable {\n    case NotFound\n}\n\
            public\nenum FieldsalesError: Swift.Error {\n    case NotFound(kind: String)\n    case Offline\n    case Internal(detail: String)\n}\n\
            public struct FfiConverterTypeFieldsalesError: FfiConverterRustBuffer {\n        case 1: return .NotFound(kind: k)\n        case 2: return .Offline\n        case let .Internal(detail):\n        case .OfflineSoon:\n}\n\
            let x = Other.NotFound\n";
        let out = lower_error_cases(swift);
        assert!(out.contains("    case notFound(kind: String)\n"), "{out}");
        assert!(out.contains("    case offline\n"), "{out}");
        assert!(
            out.contains("    case `internal`(detail: String)\n"),
            "{out}"
        );
        assert!(out.contains("return .notFound(kind: k)"), "{out}");
        assert!(out.contains("return .offline\n"), "{out}");
        assert!(out.contains("case let .`internal`(detail):"), "{out}");
        // Another enum, a longer name and a use outside the error are left alone.
        assert!(
            out.contains("enum Other: Equatable {\n    case NotFound\n}"),
            "{out}"
        );
        assert!(out.contains("case .OfflineSoon:"), "{out}");
        assert!(out.ends_with("let x = Other.NotFound\n"), "{out}");
    }
}
