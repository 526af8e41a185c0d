//! Cuts a filter into tokens: brackets, JSON string literals, and words
//! (attribute paths, operators, keywords, numbers and unquoted values, told
//! apart by the parser from where they stand).

use crate::path::SyntaxError;

/// A token's kind and, for words and strings, its content.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok<'a> {
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// A run of characters up to whitespace, a bracket or a quote.
    Word(&'a str),
    /// A decoded JSON string literal.
    Str(String),
}

/// A token and where it is in the filter (`end` is exclusive).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token<'a> {
    pub(super) tok: Tok<'a>,
    pub(super) pos: usize,
    pub(super) end: usize,
}

/// Splits `s` into tokens; an unterminated or malformed string is an error.
pub(super) fn tokenize(s: &str) -> Result<Vec<Token<'_>>, SyntaxError> {
    let mut tokens = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(pos, c)) = chars.peek() {
        let single = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            _ => None,
        };
        if let Some(tok) = single {
            chars.next();
            tokens.push(Token {
                tok,
                pos,
                end: pos + 1,
            });
        } else if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            let end = string_end(s, pos)?;
            tokens.push(Token {
                tok: Tok::Str(decode_string(s, pos, end)?),
                pos,
                end,
            });
            while chars.next_if(|&(i, _)| i < end).is_some() {}
        } else {
            let end = s
                .get(pos..)
                .and_then(|rest| rest.find(|c: char| is_word_end(c)))
                .map_or(s.len(), |len| pos + len);
            tokens.push(Token {
                tok: Tok::Word(s.get(pos..end).unwrap_or("")),
                pos,
                end,
            });
            while chars.next_if(|&(i, _)| i < end).is_some() {}
        }
    }
    Ok(tokens)
}

fn is_word_end(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"')
}

/// The index just past the quote that closes the string opened at `start`.
fn string_end(s: &str, start: usize) -> Result<usize, SyntaxError> {
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate().skip(start + 1) {
        match (escaped, b) {
            (true, _) => escaped = false,
            (false, b'\\') => escaped = true,
            (false, b'"') => return Ok(i + 1),
            _ => {}
        }
    }
    Err(SyntaxError::new(start, "unterminated string literal"))
}

/// Decodes the JSON string literal `s[start..end]`, escapes included.
fn decode_string(s: &str, start: usize, end: usize) -> Result<String, SyntaxError> {
    let literal = s.get(start..end).unwrap_or("");
    serde_json::from_str::<String>(literal).map_err(|e| {
        let column = e.column().saturating_sub(1);
        SyntaxError::new(
            start + column,
            "invalid string literal (bad escape or control character)",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok<'_>> {
        match tokenize(s) {
            Ok(tokens) => tokens.into_iter().map(|t| t.tok).collect(),
            Err(e) => panic!("{s}: {e:?}"),
        }
    }

    #[test]
    fn words_strings_and_brackets() {
        assert_eq!(
            kinds(r#"emails[type eq "work"].value eq "a b""#),
            vec![
                Tok::Word("emails"),
                Tok::LBracket,
                Tok::Word("type"),
                Tok::Word("eq"),
                Tok::Str("work".into()),
                Tok::RBracket,
                Tok::Word(".value"),
                Tok::Word("eq"),
                Tok::Str("a b".into()),
            ]
        );
    }

    #[test]
    fn positions_are_byte_offsets() {
        let tokens = tokenize("(a pr)").unwrap_or_default();
        let spans: Vec<_> = tokens.iter().map(|t| (t.pos, t.end)).collect();
        assert_eq!(spans, [(0, 1), (1, 2), (3, 5), (5, 6)]);
    }

    #[test]
    fn string_escapes_are_decoded() {
        assert_eq!(
            kinds(r#""a\"b\\c\u00e9""#),
            vec![Tok::Str("a\"b\\cé".into())]
        );
    }

    #[test]
    fn unterminated_string_is_an_error_at_its_quote() {
        assert_eq!(
            tokenize(r#"userName eq "alice"#),
            Err(SyntaxError::new(12, "unterminated string literal"))
        );
    }

    #[test]
    fn bad_escape_is_an_error() {
        let err = tokenize(r#"a eq "x\qy""#).map(|_| ()).map_err(|e| e.msg);
        assert_eq!(
            err,
            Err("invalid string literal (bad escape or control character)".into())
        );
    }

    #[test]
    fn non_ascii_words() {
        assert_eq!(
            kinds("displayName eq Zoë"),
            vec![Tok::Word("displayName"), Tok::Word("eq"), Tok::Word("Zoë"),]
        );
    }
}
