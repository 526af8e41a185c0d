//! Recursive descent over the tokens (RFC 7644 §3.4.2.2, figure 1):
//!
//! ```text
//! filter  = and *("or" and)
//! and     = unary *("and" unary)
//! unary   = "not" "(" filter ")" / "(" filter ")" / term
//! term    = attrPath "pr" / attrPath compareOp compValue
//!         / attrPath "[" filter "]" ["." subAttr ("pr" / compareOp compValue)]
//! ```
//!
//! Keywords are recognised by position, so an attribute named `and` or a
//! quoted `"AND"` is never an operator. The trailing `.subAttr op value`
//! after a value filter is Entra's form; it is folded into the value filter.

use serde_json::Number;

use super::lexer::{Tok, Token, tokenize};
use super::{CompValue, CompareOp, Filter, MAX_DEPTH, MAX_FILTER_LEN, MAX_TERMS};
use crate::path::{AttrPath, SyntaxError, name_end, parse_attr_path};

/// Parses a whole filter; positions in errors are byte offsets into `s`.
pub(crate) fn parse(s: &str) -> Result<Filter, SyntaxError> {
    if s.len() > MAX_FILTER_LEN {
        let msg = format!(
            "the filter is {} bytes long, the limit is {MAX_FILTER_LEN}",
            s.len()
        );
        return Err(SyntaxError::new(MAX_FILTER_LEN, msg));
    }
    let tokens = tokenize(s)?;
    if tokens.is_empty() {
        return Err(SyntaxError::new(0, "the filter is empty"));
    }
    let mut parser = Parser {
        src: s,
        tokens,
        next: 0,
        depth: 0,
        terms: 0,
        in_brackets: false,
    };
    let filter = parser.or_expr()?;
    match parser.peek() {
        None => Ok(filter),
        Some(t) => Err(parser.error_at(
            t.pos,
            format!(
                "expected 'and', 'or' or the end of the filter, found '{}'",
                parser.text(t)
            ),
        )),
    }
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token<'a>>,
    next: usize,
    depth: usize,
    terms: usize,
    in_brackets: bool,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.next)
    }

    fn peek_word(&self) -> Option<&'a str> {
        match self.peek().map(|t| &t.tok) {
            Some(Tok::Word(w)) => Some(w),
            _ => None,
        }
    }

    fn bump(&mut self) -> Option<Token<'a>> {
        let token = self.tokens.get(self.next).cloned();
        self.next += 1;
        token
    }

    /// The source text of a token, shortened for error messages.
    fn text(&self, t: &Token<'_>) -> String {
        let text = self.src.get(t.pos..t.end).unwrap_or("");
        let mut short: String = text.chars().take(40).collect();
        if short.len() < text.len() {
            short.push('…');
        }
        short
    }

    fn error_at(&self, pos: usize, msg: impl Into<String>) -> SyntaxError {
        SyntaxError::new(pos, msg)
    }

    /// An error about the token that comes next (or the end of the input).
    fn expected(&self, what: &str, after: &Token<'_>) -> SyntaxError {
        let after = self.text(after);
        match self.peek() {
            None => self.error_at(self.src.len(), format!("expected {what} after '{after}'")),
            Some(t) => {
                let msg = format!("expected {what} after '{after}', found '{}'", self.text(t));
                self.error_at(t.pos, msg)
            }
        }
    }

    /// Where the token just consumed ends.
    fn previous_end(&self) -> usize {
        let previous = self.next.checked_sub(1).and_then(|i| self.tokens.get(i));
        previous.map_or(0, |t| t.end)
    }

    fn or_expr(&mut self) -> Result<Filter, SyntaxError> {
        let mut left = self.and_expr()?;
        while self
            .peek_word()
            .is_some_and(|w| w.eq_ignore_ascii_case("or"))
        {
            self.bump();
            let right = self.and_expr()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Filter, SyntaxError> {
        let mut left = self.unary()?;
        while self
            .peek_word()
            .is_some_and(|w| w.eq_ignore_ascii_case("and"))
        {
            self.bump();
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, SyntaxError> {
        let Some(token) = self.bump() else {
            let msg = "expected an attribute, 'not' or '(' at the end of the filter";
            return Err(self.error_at(self.src.len(), msg));
        };
        let next_is_paren = matches!(self.peek().map(|t| &t.tok), Some(Tok::LParen));
        match token.tok {
            Tok::Word(w) if w.eq_ignore_ascii_case("not") && next_is_paren => {
                self.bump();
                let inner = self.group(&token, Tok::RParen)?;
                Ok(Filter::Not(Box::new(inner)))
            }
            Tok::LParen => self.group(&token, Tok::RParen),
            Tok::Word(w) => self.term(&token, w),
            _ => {
                let msg = format!(
                    "expected an attribute, 'not' or '(', found '{}'",
                    self.text(&token)
                );
                Err(self.error_at(token.pos, msg))
            }
        }
    }

    /// A nested filter after an opening `(` or `[`, up to the closing token.
    fn group(&mut self, open: &Token<'_>, close: Tok<'static>) -> Result<Filter, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(open.pos, format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let inner = self.or_expr()?;
        match self.peek() {
            Some(t) if t.tok == close => {
                self.bump();
            }
            Some(t) => {
                let want = if close == Tok::RParen { "')'" } else { "']'" };
                let msg = format!("expected {want}, 'and' or 'or', found '{}'", self.text(t));
                return Err(self.error_at(t.pos, msg));
            }
            None => {
                let (opened, want) = if close == Tok::RParen {
                    ("(", ")")
                } else {
                    ("[", "]")
                };
                let msg = format!(
                    "the '{opened}' at position {} is never closed; expected '{want}'",
                    open.pos
                );
                return Err(self.error_at(self.src.len(), msg));
            }
        }
        self.depth -= 1;
        Ok(inner)
    }

    fn term(&mut self, token: &Token<'a>, word: &str) -> Result<Filter, SyntaxError> {
        let path = parse_attr_path(word).map_err(|e| SyntaxError::new(token.pos + e.pos, e.msg))?;
        if matches!(self.peek().map(|t| &t.tok), Some(Tok::LBracket)) {
            return self.value_path(token, path);
        }
        self.comparison(token, path)
    }

    /// `pr`, or an operator and a value, after the attribute `path` (whose token is `attr`).
    fn comparison(&mut self, attr: &Token<'_>, path: AttrPath) -> Result<Filter, SyntaxError> {
        self.count_term(attr)?;
        let Some(op_word) = self.peek_word() else {
            return Err(self.expected("a comparison operator", attr));
        };
        if op_word.eq_ignore_ascii_case("pr") {
            self.bump();
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::from_keyword(op_word) else {
            return Err(self.expected("a comparison operator", attr));
        };
        let Some(op_token) = self.bump() else {
            return Err(self.expected("a comparison operator", attr));
        };
        let value = match self.peek().map(|t| &t.tok) {
            Some(Tok::Str(s)) => CompValue::Str(s.clone()),
            Some(Tok::Word(w)) => word_value(w),
            _ => return Err(self.expected("a comparison value", &op_token)),
        };
        self.bump();
        Ok(Filter::Compare(path, op, value))
    }

    fn count_term(&mut self, at: &Token<'_>) -> Result<(), SyntaxError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(self.error_at(at.pos, format!("more than {MAX_TERMS} terms")));
        }
        Ok(())
    }

    fn value_path(&mut self, attr: &Token<'_>, path: AttrPath) -> Result<Filter, SyntaxError> {
        let Some(open) = self.bump() else {
            return Err(self.expected("'['", attr));
        };
        if self.in_brackets {
            return Err(self.error_at(open.pos, "value filters cannot be nested"));
        }
        if path.sub_attr.is_some() {
            return Err(self.error_at(open.pos, "a value filter must follow the attribute itself"));
        }
        self.in_brackets = true;
        let inner = self.group(&open, Tok::RBracket);
        self.in_brackets = false;
        let mut inner = inner?;
        // Entra: `emails[type eq "work"].value eq "x"` means
        // `emails[type eq "work" and value eq "x"]`; the `.value` touches the `]`.
        let close_end = self.previous_end();
        let touching = |t: &&Token<'_>| t.pos == close_end && matches!(t.tok, Tok::Word(_));
        if let Some(sub_token) = self.peek().filter(touching).cloned() {
            let folded = self.folded_comparison(&sub_token)?;
            inner = Filter::And(Box::new(inner), Box::new(folded));
        }
        Ok(Filter::ValuePath(path, Box::new(inner)))
    }

    /// The `.sub op value` after a value filter, as a comparison on `sub`.
    fn folded_comparison(&mut self, sub_token: &Token<'_>) -> Result<Filter, SyntaxError> {
        let text = self.src.get(sub_token.pos..sub_token.end).unwrap_or("");
        let Some(sub) = text.strip_prefix('.') else {
            return Err(self.error_at(sub_token.pos, "expected '.' after ']'"));
        };
        let end = name_end(sub, sub_token.pos + 1)?;
        if end != sub.len() {
            let msg = format!(
                "unexpected '{}' in a sub-attribute name",
                self.text(sub_token)
            );
            return Err(self.error_at(sub_token.pos + 1 + end, msg));
        }
        self.bump();
        self.comparison(sub_token, AttrPath::simple(sub))
    }
}

/// An unquoted value: `true`, `false`, `null` (any case), a JSON number, or
/// else a bare word read as a string (Entra's old `externalId eq 5ab2-…`).
fn word_value(w: &str) -> CompValue {
    if w.eq_ignore_ascii_case("true") {
        return CompValue::Bool(true);
    }
    if w.eq_ignore_ascii_case("false") {
        return CompValue::Bool(false);
    }
    if w.eq_ignore_ascii_case("null") {
        return CompValue::Null;
    }
    json_number(w).map_or_else(|| CompValue::Str(w.to_owned()), CompValue::Num)
}

/// A JSON number (RFC 8259 §6). Parsed with the standard library rather than
/// serde_json, whose default float parser may be one unit off in the last
/// place, which would break `parse(print(f)) == f`.
fn json_number(w: &str) -> Option<Number> {
    let unsigned = w.strip_prefix('-').unwrap_or(w);
    let int_len = unsigned
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(unsigned.len());
    let (int, mut rest) = unsigned.split_at(int_len);
    if int.is_empty() || (int.len() > 1 && int.starts_with('0')) {
        return None;
    }
    let mut integral = true;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        rest = fraction.get(digits..).filter(|_| digits > 0)?;
        integral = false;
    }
    if let Some(exponent) = rest.strip_prefix(['e', 'E']) {
        let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        rest = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            ""
        } else {
            rest
        };
        integral = false;
    }
    if !rest.is_empty() {
        return None;
    }
    if integral {
        if let Ok(n) = w.parse::<i64>() {
            return Some(n.into());
        }
        if let Ok(n) = w.parse::<u64>() {
            return Some(n.into());
        }
    }
    Number::from_f64(w.parse::<f64>().ok()?)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod number_tests {
    use super::*;

    #[test]
    fn json_number_grammar() {
        let num = |w: &str| json_number(w).map(|n| n.to_string());
        assert_eq!(num("0"), Some("0".into()));
        assert_eq!(num("-12"), Some("-12".into()));
        assert_eq!(
            num("18446744073709551615"),
            Some("18446744073709551615".into())
        );
        assert_eq!(num("1.5"), Some("1.5".into()));
        assert_eq!(num("-2.5E+3"), Some("-2500.0".into()));
        assert_eq!(num("1e2"), Some("100.0".into()));
        assert_eq!(num("911856688987.1661"), Some("911856688987.1661".into()));
        for not_a_number in [
            "",
            "-",
            "01",
            "1.",
            ".5",
            "+1",
            "1e",
            "1e+",
            "1.2.3",
            "inf",
            "NaN",
            "1e999",
            "6e1f7d2a-4c8b",
            "5ab2",
        ] {
            assert_eq!(num(not_a_number), None, "{not_a_number}");
        }
    }
}
