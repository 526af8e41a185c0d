//! The key path at a line and column of a YAML document.
//!
//! serde-saphyr reports where a parse error is (line and column), not which
//! key it belongs to. An operator thinks in key paths (`core.base_url`), so
//! this module walks the text up to the error and tracks the open keys:
//! block mappings by indentation, flow mappings (`{ a: 1 }`) by brackets.
//! It is a best effort for well-formed-looking files; the message of every
//! parse problem also carries the line and column, which are exact.

use crate::problem::join;

/// The dotted key path in effect at `line`/`column` (1-based, as serde-saphyr
/// reports them), or an empty string when the position is outside any key.
pub(crate) fn key_path_at(yaml: &str, line: u64, column: u64) -> String {
    let mut scanner = Scanner::default();
    for (index, text) in yaml.lines().enumerate() {
        let number = index as u64 + 1;
        if number == line {
            let limit = usize::try_from(column.saturating_sub(1)).unwrap_or(usize::MAX);
            scanner.line(text, limit);
            break;
        }
        scanner.line(text, usize::MAX);
    }
    scanner.path()
}

/// Keys open at the current position.
#[derive(Default)]
struct Scanner {
    /// Block-mapping keys with the column they start at.
    block: Vec<(usize, String)>,
    /// Open flow collections; a mapping remembers its current key.
    flow: Vec<Flow>,
    /// Set after `key: |` or `key: >`: lines indented deeper than this are
    /// scalar text, whatever they look like.
    block_scalar_indent: Option<usize>,
}

enum Flow {
    Map(Option<String>),
    Seq,
}

impl Scanner {
    /// Consumes one line; nothing at or after char index `limit` counts,
    /// except a key that starts exactly there (an unknown key is reported at
    /// its first character).
    fn line(&mut self, text: &str, limit: usize) {
        let chars: Vec<char> = text.chars().collect();
        let first = chars.iter().take_while(|c| **c == ' ').count();
        if !self.flow.is_empty() {
            self.flow_scan(&chars, first, limit);
            return;
        }
        if let Some(indent) = self.block_scalar_indent {
            if first >= chars.len() || first > indent {
                return;
            }
            self.block_scalar_indent = None;
        }
        if first >= chars.len() || chars[first] == '#' {
            return;
        }
        if first == 0 && (text.starts_with("---") || text.starts_with("...")) {
            self.block.clear();
            return;
        }
        while self
            .block
            .last()
            .is_some_and(|(indent, _)| *indent >= first)
        {
            self.block.pop();
        }

        // `- key: value` puts the key after the sequence markers.
        let mut start = first;
        while chars.get(start) == Some(&'-') && chars.get(start + 1).is_none_or(|c| *c == ' ') {
            start += 1;
            while chars.get(start) == Some(&' ') {
                start += 1;
            }
        }
        if start > limit {
            return;
        }
        let Some((key, after_colon)) = read_key(&chars, start, false) else {
            if matches!(chars.get(start), Some('{' | '[')) {
                self.flow_scan(&chars, start, limit);
            }
            return;
        };
        self.block.push((start, key));

        let value = skip_spaces(&chars, after_colon);
        if value > limit {
            return;
        }
        match chars.get(value) {
            Some('{' | '[') => self.flow_scan(&chars, value, limit),
            Some('|' | '>') => self.block_scalar_indent = Some(start),
            _ => {}
        }
    }

    /// Tracks brackets, commas and keys inside flow collections.
    fn flow_scan(&mut self, chars: &[char], from: usize, limit: usize) {
        let mut i = from;
        while i < chars.len() {
            let c = chars[i];
            if c == ' ' {
                i += 1;
                continue;
            }
            if c == '#' && (i == 0 || chars[i - 1] == ' ') {
                return;
            }
            if i > limit {
                return;
            }
            match c {
                '{' => self.flow.push(Flow::Map(None)),
                '[' => self.flow.push(Flow::Seq),
                '}' | ']' => {
                    self.flow.pop();
                    if self.flow.is_empty() {
                        return;
                    }
                }
                ',' => {
                    if let Some(Flow::Map(key)) = self.flow.last_mut() {
                        *key = None;
                    }
                }
                _ => {
                    if let Some((key, after_colon)) = read_key(chars, i, true) {
                        if let Some(Flow::Map(open)) = self.flow.last_mut() {
                            *open = Some(key);
                        }
                        i = after_colon;
                        continue;
                    }
                    i = skip_scalar(chars, i);
                    continue;
                }
            }
            i += 1;
        }
    }

    fn path(&self) -> String {
        let block = self.block.iter().map(|(_, key)| key.as_str());
        let flow = self.flow.iter().filter_map(|f| match f {
            Flow::Map(key) => key.as_deref(),
            Flow::Seq => None,
        });
        block
            .chain(flow)
            .fold(String::new(), |path, key| join(&path, key))
    }
}

/// Reads `key:` starting at `start`: a quoted or plain scalar followed by a
/// colon that ends the key (followed by a space, a flow indicator or the end
/// of the line). Inside a flow collection a plain key also ends at a flow
/// indicator. Returns the key text and the index after the colon.
fn read_key(chars: &[char], start: usize, in_flow: bool) -> Option<(String, usize)> {
    let (key, end) = match chars.get(start)? {
        quote @ ('"' | '\'') => {
            let close = (start + 1..chars.len()).find(|i| chars[*i] == *quote)?;
            (
                chars[start + 1..close].iter().collect::<String>(),
                close + 1,
            )
        }
        _ => {
            let end = (start..chars.len())
                .find(|i| is_key_colon(chars, *i) || (in_flow && is_flow_indicator(chars[*i])))?;
            if chars[end] != ':' {
                return None;
            }
            let key: String = chars[start..end].iter().collect();
            (key.trim_end().to_owned(), end)
        }
    };
    let colon = skip_spaces(chars, end);
    is_key_colon(chars, colon).then_some((key, colon + 1))
}

fn is_key_colon(chars: &[char], i: usize) -> bool {
    chars.get(i) == Some(&':')
        && chars
            .get(i + 1)
            .is_none_or(|c| matches!(c, ' ' | ',' | '}' | ']'))
}

fn is_flow_indicator(c: char) -> bool {
    matches!(c, ',' | '{' | '}' | '[' | ']')
}

/// Skips a flow value (quoted, or plain up to the next indicator).
fn skip_scalar(chars: &[char], start: usize) -> usize {
    if let quote @ ('"' | '\'') = chars[start] {
        return (start + 1..chars.len())
            .find(|i| chars[*i] == quote)
            .map_or(chars.len(), |close| close + 1);
    }
    (start..chars.len())
        .find(|i| is_flow_indicator(chars[*i]))
        .unwrap_or(chars.len())
}

fn skip_spaces(chars: &[char], from: usize) -> usize {
    (from..chars.len())
        .find(|i| chars[*i] != ' ')
        .unwrap_or(chars.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "\
# comment: not a key
listen: 0.0.0.0:8443
tls:
  cert_file: a
  bogus: 1
core:
  base_url: x   # note: comment
  connect_timeout_ms: abc
roles:
  mapping:
    \"Ignite.Admin\": Admin
    Viewer: [1]
";

    #[test]
    fn top_level_key() {
        assert_eq!(key_path_at(YAML, 2, 9), "listen");
        assert_eq!(key_path_at(YAML, 3, 1), "tls");
    }

    #[test]
    fn unknown_key_reported_at_its_first_character() {
        assert_eq!(key_path_at(YAML, 5, 3), "tls.bogus");
    }

    #[test]
    fn value_of_a_nested_key() {
        assert_eq!(key_path_at(YAML, 8, 23), "core.connect_timeout_ms");
    }

    #[test]
    fn quoted_keys_are_unquoted_then_quoted_again_when_ambiguous() {
        assert_eq!(key_path_at(YAML, 11, 21), "roles.mapping.\"Ignite.Admin\"");
        assert_eq!(key_path_at(YAML, 12, 13), "roles.mapping.Viewer");
    }

    #[test]
    fn comment_lines_do_not_open_keys() {
        assert_eq!(key_path_at(YAML, 1, 3), "");
    }

    #[test]
    fn flow_mapping_on_one_line() {
        let yaml = "tls: { cert_file: a, bogus: 2 }\n";

        assert_eq!(key_path_at(yaml, 1, 22), "tls.bogus");
        assert_eq!(key_path_at(yaml, 1, 19), "tls.cert_file");
        assert_eq!(key_path_at(yaml, 1, 6), "tls");
    }

    #[test]
    fn flow_mapping_over_several_lines() {
        let yaml = "core: {\n  base_url: x,\n  max_idle_per_host: -1\n}\nlog: {}\n";

        assert_eq!(key_path_at(yaml, 3, 22), "core.max_idle_per_host");
        assert_eq!(key_path_at(yaml, 5, 6), "log");
    }

    #[test]
    fn block_scalar_text_is_not_read_as_keys() {
        let yaml = "log:\n  level: |\n    fake: key\n  format: xml\n";

        assert_eq!(key_path_at(yaml, 3, 5), "log.level");
        assert_eq!(key_path_at(yaml, 4, 11), "log.format");
    }

    #[test]
    fn sequence_items_stay_under_their_key() {
        let yaml = "tls:\n  - cert_file: a\n";

        assert_eq!(key_path_at(yaml, 2, 3), "tls");
        assert_eq!(key_path_at(yaml, 2, 16), "tls.cert_file");
    }

    #[test]
    fn under_indented_key_pops_to_its_level() {
        let yaml = "tls:\n  cert_file: a\n key_file: b\n";

        assert_eq!(key_path_at(yaml, 3, 2), "tls.key_file");
    }

    #[test]
    fn document_marker_closes_every_key() {
        let yaml = "tls:\n  cert_file: a\n---\n";

        assert_eq!(key_path_at(yaml, 3, 1), "");
    }

    #[test]
    fn colon_inside_a_value_is_not_a_key() {
        let yaml = "core:\n  base_url: http://core:8080\n";

        assert_eq!(key_path_at(yaml, 2, 13), "core.base_url");
    }
}
