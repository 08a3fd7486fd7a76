//! A subset of Exchange's OPATH `-Filter` syntax: comparisons (`-eq -ne -like -notlike -gt -ge
//! -lt -le`) of a property with a quoted or bare value, combined with `-and`, `-or`, `-not` and
//! parentheses; `$true`, `$false`, `$null`. Property names are checked when the filter is parsed,
//! values are converted to the property's type (dates: ISO 8601 or `MM/dd/yyyy HH:mm:ss`, UTC).

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::wire::ExoError;

/// The type of a filterable property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Bool,
    Date,
}

/// A property's value on one object.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Prop<'a> {
    Text(&'a str),
    Owned(String),
    Bool(bool),
    Date(DateTime<Utc>),
    Null,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Literal {
    Text(String),
    Bool(bool),
    Date(DateTime<Utc>),
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Like,
    NotLike,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A parsed filter.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Filter {
    Cmp {
        property: &'static str,
        op: Op,
        value: Literal,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Open,
    Close,
    Dash(String),
    Quoted(String),
    Word(String),
}

fn error(filter: &str, why: &str) -> ExoError {
    ExoError::parameter(&format!(
        "Cannot bind parameter 'Filter' to the target. Exception setting \"Filter\": \"Invalid filter syntax. \
         For a description of the filter parameter syntax see the command help. \"{filter}\": {why}\""
    ))
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            '\'' | '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(format!("missing closing {c}")),
                        Some(q) if q == c && chars.peek() == Some(&c) => {
                            chars.next();
                            s.push(c);
                        }
                        Some(q) if q == c => break,
                        Some(other) => s.push(other),
                    }
                }
                out.push(Token::Quoted(s));
            }
            _ => {
                let mut s = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' {
                        break;
                    }
                    s.push(c);
                    chars.next();
                }
                if s.starts_with('-') && s.len() > 1 {
                    out.push(Token::Dash(s.to_ascii_lowercase()));
                } else {
                    out.push(Token::Word(s));
                }
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    known: &'a [(&'static str, Kind)],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while matches!(self.peek(), Some(Token::Dash(d)) if d == "-or") {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        while matches!(self.peek(), Some(Token::Dash(d)) if d == "-and") {
            self.pos += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, String> {
        match self.next() {
            Some(Token::Dash(d)) if d == "-not" => Ok(Filter::Not(Box::new(self.unary()?))),
            Some(Token::Open) => {
                let inner = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err("missing ')'".into()),
                }
            }
            Some(Token::Word(name)) => self.comparison(&name),
            Some(other) => Err(format!("unexpected {other:?}")),
            None => Err("unexpected end of filter".into()),
        }
    }

    fn comparison(&mut self, name: &str) -> Result<Filter, String> {
        let (property, kind) = self
            .known
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .copied()
            .ok_or_else(|| format!("'{name}' is not a recognized filterable property"))?;
        let op = match self.next() {
            Some(Token::Dash(d)) => match d.as_str() {
                "-eq" => Op::Eq,
                "-ne" => Op::Ne,
                "-like" => Op::Like,
                "-notlike" => Op::NotLike,
                "-gt" => Op::Gt,
                "-ge" => Op::Ge,
                "-lt" => Op::Lt,
                "-le" => Op::Le,
                other => return Err(format!("unsupported operator '{other}'")),
            },
            _ => return Err(format!("expected an operator after '{name}'")),
        };
        let (raw, quoted) = match self.next() {
            Some(Token::Quoted(s)) => (s, true),
            Some(Token::Word(s)) => (s, false),
            _ => return Err(format!("expected a value after '{name}'")),
        };
        let value = if !quoted && raw.eq_ignore_ascii_case("$null") {
            Literal::Null
        } else {
            match kind {
                Kind::Text => Literal::Text(raw),
                Kind::Bool => Literal::Bool(
                    parse_bool(&raw).ok_or_else(|| format!("'{raw}' is not a boolean"))?,
                ),
                Kind::Date => {
                    Literal::Date(parse_date(&raw).ok_or_else(|| format!("'{raw}' is not a date"))?)
                }
            }
        };
        Ok(Filter::Cmp {
            property,
            op,
            value,
        })
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim_start_matches('$').to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Dates as clients write them in filters; values without an offset are UTC.
pub(crate) fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let s = s.trim_end_matches('Z');
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %I:%M:%S %p",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    ["%Y-%m-%d", "%m/%d/%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// `*` and `?` wildcards, case-insensitive.
pub(crate) fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let (mut ti, mut pi, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn ordered(op: Op, ord: Ordering) -> bool {
    match op {
        Op::Eq | Op::Like => ord == Ordering::Equal,
        Op::Ne | Op::NotLike => ord != Ordering::Equal,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
    }
}

impl Filter {
    /// Parses `text` against the filterable properties `known`; errors are 400 binding errors.
    pub(crate) fn parse(text: &str, known: &[(&'static str, Kind)]) -> Result<Self, ExoError> {
        let trimmed = text.trim();
        let inner = trimmed
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(trimmed);
        let tokens = tokenize(inner).map_err(|why| error(text, &why))?;
        let mut parser = Parser {
            tokens,
            pos: 0,
            known,
        };
        let filter = parser.or().map_err(|why| error(text, &why))?;
        if parser.pos < parser.tokens.len() {
            return Err(error(
                text,
                "unexpected text after the end of the expression",
            ));
        }
        Ok(filter)
    }

    /// Whether an object matches; `get` returns a property by its canonical name.
    pub(crate) fn matches<'a>(&self, get: &impl Fn(&str) -> Prop<'a>) -> bool {
        match self {
            Self::And(a, b) => a.matches(get) && b.matches(get),
            Self::Or(a, b) => a.matches(get) || b.matches(get),
            Self::Not(a) => !a.matches(get),
            Self::Cmp {
                property,
                op,
                value,
            } => {
                let actual = get(property);
                let text = match &actual {
                    Prop::Text(s) => Some(*s),
                    Prop::Owned(s) => Some(s.as_str()),
                    _ => None,
                };
                match (value, &actual, text) {
                    (Literal::Null, Prop::Null, _) => matches!(op, Op::Eq | Op::Like),
                    (Literal::Null, _, _) | (_, Prop::Null, _) => {
                        matches!(op, Op::Ne | Op::NotLike)
                    }
                    (Literal::Text(p), _, Some(t)) if matches!(op, Op::Like | Op::NotLike) => {
                        like(t, p) == (*op == Op::Like)
                    }
                    (Literal::Text(v), _, Some(t)) => {
                        ordered(*op, t.to_lowercase().cmp(&v.to_lowercase()))
                    }
                    (Literal::Bool(v), Prop::Bool(b), _) => ordered(*op, b.cmp(v)),
                    (Literal::Date(v), Prop::Date(d), _) => ordered(*op, d.cmp(v)),
                    _ => false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[(&str, Kind)] = &[
        ("DeviceType", Kind::Text),
        ("IsManaged", Kind::Bool),
        ("WhenChangedUTC", Kind::Date),
        ("DeviceImei", Kind::Text),
    ];

    fn sample(name: &str) -> Prop<'static> {
        match name {
            "DeviceType" => Prop::Text("iPhone"),
            "IsManaged" => Prop::Bool(true),
            "WhenChangedUTC" => parse_date("2025-03-01T10:00:00").map_or(Prop::Null, Prop::Date),
            _ => Prop::Null,
        }
    }

    fn eval(text: &str) -> bool {
        match Filter::parse(text, KNOWN) {
            Ok(f) => f.matches(&sample),
            Err(e) => panic!("{text}: {}", e.message),
        }
    }

    #[test]
    fn comparisons_and_logic() {
        assert!(eval("DeviceType -eq 'iphone'"));
        assert!(eval("{ devicetype -like 'iP*' }"));
        assert!(eval(
            "DeviceType -notlike '*android*' -and IsManaged -eq $true"
        ));
        assert!(eval(
            "-not (DeviceType -eq 'Android') -or IsManaged -eq $false"
        ));
        assert!(eval("WhenChangedUTC -gt '2025-02-28T00:00:00Z'"));
        assert!(!eval("WhenChangedUTC -lt \"02/28/2025 00:00:00\""));
        assert!(eval("DeviceImei -eq $null"));
        assert!(eval("DeviceType -ne $null"));
        assert!(eval("DeviceType -eq 'it''s' -or DeviceType -eq iPhone"));
    }

    #[test]
    fn bad_filters_are_binding_errors() {
        for bad in [
            "Foo -eq 1",
            "DeviceType -eq",
            "DeviceType -contains 'a'",
            "(DeviceType -eq 'a'",
            "IsManaged -eq maybe",
            "WhenChangedUTC -gt 'soon'",
            "DeviceType -eq 'a' junk",
            "'unterminated",
        ] {
            let err = Filter::parse(bad, KNOWN)
                .err()
                .map(|e| e.message)
                .unwrap_or_default();
            assert!(
                err.contains("Cannot bind parameter 'Filter'"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn wildcards() {
        assert!(like("Apple-iPhone16C2/2201.83", "apple-*/22??.83"));
        assert!(!like("abc", "a?"));
        assert!(like("", "*"));
    }
}
