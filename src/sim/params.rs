//! Parameter binding, PowerShell style: names are case-insensitive, unknown names and wrong types
//! are `ParameterBindingException`s, switches are JSON booleans.

use serde_json::{Map, Value};

use super::wire::ExoError;

/// Common parameters every cmdlet accepts (and the simulator ignores).
const COMMON: &[&str] = &[
    "Debug",
    "ErrorAction",
    "ErrorVariable",
    "InformationAction",
    "InformationVariable",
    "OutBuffer",
    "OutVariable",
    "PipelineVariable",
    "Verbose",
    "WarningAction",
    "WarningVariable",
];

/// `ResultSize`: `Unlimited` or a positive count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ResultSize {
    Unlimited,
    Limit(u64),
}

/// A multi-valued parameter: a plain value or list replaces the whole list, a
/// `{"@odata.type":"#Exchange.GenericHashTable","Add":[...],"Remove":[...]}` edits it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum MultiValue {
    Replace(Vec<String>),
    Modify {
        add: Vec<String>,
        remove: Vec<String>,
    },
}

impl MultiValue {
    /// Applies this value to `list` (removals compare case-insensitively; no duplicates added).
    pub(crate) fn apply(self, list: &mut Vec<String>) {
        match self {
            Self::Replace(items) => *list = items,
            Self::Modify { add, remove } => {
                list.retain(|x| !remove.iter().any(|r| r.eq_ignore_ascii_case(x)));
                for a in add {
                    if !list.iter().any(|x| x.eq_ignore_ascii_case(&a)) {
                        list.push(a);
                    }
                }
            }
        }
    }
}

/// The parameters of one call, bound to a cmdlet's declared names (canonical spelling).
#[derive(Clone, Debug, Default)]
pub(crate) struct Params {
    entries: Vec<(&'static str, Value)>,
}

impl Params {
    /// Binds `raw` (the `Parameters` object; absent or `null` means none) against `declared`.
    pub(crate) fn bind(declared: &[&'static str], raw: Option<&Value>) -> Result<Self, ExoError> {
        let map: &Map<String, Value> = match raw {
            None | Some(Value::Null) => return Ok(Self::default()),
            Some(Value::Object(map)) => map,
            Some(_) => return Err(ExoError::bad_body("'Parameters' must be a JSON object")),
        };
        let mut entries: Vec<(&'static str, Value)> = Vec::with_capacity(map.len());
        for (name, value) in map {
            let canonical = declared
                .iter()
                .chain(COMMON)
                .find(|d| d.eq_ignore_ascii_case(name))
                .copied()
                .ok_or_else(|| ExoError::unknown_parameter(name))?;
            if entries.iter().any(|(n, _)| *n == canonical) {
                return Err(ExoError::parameter(&format!(
                    "Cannot bind parameter because parameter '{canonical}' is specified more than once."
                )));
            }
            entries.push((canonical, value.clone()));
        }
        Ok(Self { entries })
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// A string parameter (`null` counts as absent).
    pub(crate) fn string(&self, name: &str) -> Result<Option<&str>, ExoError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(conversion(name, other, "System.String")),
        }
    }

    /// A switch: absent is off, `true`/`false` as given.
    pub(crate) fn switch(&self, name: &str) -> Result<bool, ExoError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(conversion(
                name,
                other,
                "System.Management.Automation.SwitchParameter",
            )),
        }
    }

    /// A boolean parameter: JSON `true`/`false`, or the text `true`, `false`, `$true`, `$false`
    /// (`null` counts as absent).
    pub(crate) fn boolean(&self, name: &str) -> Result<Option<bool>, ExoError> {
        match self.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => match s
                .trim()
                .trim_start_matches('$')
                .to_ascii_lowercase()
                .as_str()
            {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(conversion(
                    name,
                    &Value::String(s.clone()),
                    "System.Boolean",
                )),
            },
            Some(other) => Err(conversion(name, other, "System.Boolean")),
        }
    }

    /// Every given parameter (canonical name, value) in the order the caller sent them.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'static str, &Value)> + '_ {
        self.entries.iter().map(|(n, v)| (*n, v))
    }

    /// A multi-valued parameter (see [`MultiValue`]); `null` counts as an empty list.
    pub(crate) fn multi(&self, name: &str) -> Result<Option<MultiValue>, ExoError> {
        let strings = |v: Option<&Value>| -> Result<Vec<String>, ExoError> {
            match v {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::String(s)) => Ok(vec![s.clone()]),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| match i {
                        Value::String(s) => Ok(s.clone()),
                        other => Err(conversion(name, other, "System.String")),
                    })
                    .collect(),
                Some(other) => Err(conversion(name, other, "System.String[]")),
            }
        };
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(map)) => {
                let field = |k: &str| {
                    map.iter()
                        .find(|(key, _)| key.eq_ignore_ascii_case(k))
                        .map(|(_, v)| v)
                };
                if map.keys().any(|k| {
                    !k.eq_ignore_ascii_case("add")
                        && !k.eq_ignore_ascii_case("remove")
                        && !k.starts_with('@')
                }) {
                    return Err(ExoError::parameter(&format!(
                        "Cannot bind parameter '{name}'. A hash table for a multi-valued property takes only the keys Add and Remove."
                    )));
                }
                Ok(Some(MultiValue::Modify {
                    add: strings(field("Add"))?,
                    remove: strings(field("Remove"))?,
                }))
            }
            v => Ok(Some(MultiValue::Replace(strings(v)?))),
        }
    }

    /// `ResultSize`: `"Unlimited"` (any case), a positive integer, or its decimal text.
    pub(crate) fn result_size(&self) -> Result<Option<ResultSize>, ExoError> {
        let value = match self.get("ResultSize") {
            None | Some(Value::Null) => return Ok(None),
            Some(v) => v,
        };
        let parsed = match value {
            Value::String(s) if s.trim().eq_ignore_ascii_case("unlimited") => {
                Some(ResultSize::Unlimited)
            }
            Value::String(s) => s
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .map(ResultSize::Limit),
            Value::Number(n) => n.as_u64().filter(|n| *n > 0).map(ResultSize::Limit),
            _ => None,
        };
        parsed.map(Some).ok_or_else(|| {
            ExoError::parameter(&format!(
                "Cannot process argument transformation on parameter 'ResultSize'. Cannot convert value \"{}\" to type \
                 \"Microsoft.Exchange.Data.Unlimited`1[System.UInt32]\". Error: \"The value must be 'Unlimited' or a \
                 positive number.\"",
                short(value)
            ))
        })
    }

    /// All parameters in a canonical order (for skiptoken fingerprints): sorted by name.
    pub(crate) fn canonical(&self) -> Vec<(&'static str, &Value)> {
        let mut v: Vec<(&'static str, &Value)> =
            self.entries.iter().map(|(n, v)| (*n, v)).collect();
        v.sort_by_key(|(n, _)| *n);
        v
    }
}

fn short(value: &Value) -> String {
    let mut s = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.len() > 80 {
        let mut cut = 80;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

fn conversion(name: &str, value: &Value, target: &str) -> ExoError {
    let source = match value {
        Value::Bool(_) => "System.Boolean",
        Value::Number(_) => "System.Int64",
        Value::String(_) => "System.String",
        Value::Array(_) => "System.Object[]",
        _ => "System.Collections.Hashtable",
    };
    ExoError::parameter(&format!(
        "Cannot bind parameter '{name}'. Cannot convert the \"{}\" value of type \"{source}\" to type \"{target}\".",
        short(value)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DECLARED: &[&str] = &["Identity", "ResultSize", "ActiveSync"];

    #[test]
    fn names_bind_case_insensitively_to_their_canonical_spelling() {
        let raw = json!({"identity": "x", "RESULTSIZE": "unlimited", "activesync": true, "ErrorAction": "Stop"});
        let p = Params::bind(DECLARED, Some(&raw)).unwrap_or_default();
        assert_eq!(p.string("Identity").ok().flatten(), Some("x"));
        assert_eq!(p.result_size().ok().flatten(), Some(ResultSize::Unlimited));
        assert_eq!(p.switch("ActiveSync").ok(), Some(true));
        let names: Vec<&str> = p.canonical().iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            ["ActiveSync", "ErrorAction", "Identity", "ResultSize"]
        );
    }

    #[test]
    fn unknown_parameters_and_bad_values_are_binding_errors() {
        let err = Params::bind(DECLARED, Some(&json!({"Foo": 1}))).err();
        let msg = err.map(|e| e.message).unwrap_or_default();
        assert!(
            msg.ends_with("A parameter cannot be found that matches parameter name 'Foo'."),
            "{msg}"
        );
        let dup = Params::bind(DECLARED, Some(&json!({"identity": "a", "Identity": "b"})));
        assert!(dup.is_err());
        assert!(Params::bind(DECLARED, Some(&json!([1]))).is_err());
        for bad in [json!("lots"), json!(0), json!(-5), json!(true)] {
            let p = Params::bind(DECLARED, Some(&json!({ "ResultSize": bad }))).unwrap_or_default();
            assert!(p.result_size().is_err());
        }
        let p = Params::bind(
            DECLARED,
            Some(&json!({"ResultSize": 50, "ActiveSync": "yes", "Identity": 3})),
        )
        .unwrap_or_default();
        assert_eq!(p.result_size().ok().flatten(), Some(ResultSize::Limit(50)));
        assert!(p.switch("ActiveSync").is_err());
        assert!(p.string("Identity").is_err());
    }

    #[test]
    fn booleans_and_multi_values_bind_like_powershell() {
        let declared: &[&'static str] = &["A", "B", "C", "L", "H"];
        let raw = json!({"A": true, "B": "$false", "C": 3, "L": ["x@a", "y@a"],
            "H": {"@odata.type": "#Exchange.GenericHashTable", "Add": ["z@a"], "Remove": "X@A"}});
        let p = Params::bind(declared, Some(&raw)).unwrap_or_default();
        assert_eq!(p.boolean("A").ok().flatten(), Some(true));
        assert_eq!(p.boolean("B").ok().flatten(), Some(false));
        assert!(p.boolean("C").is_err());
        let mut list = vec!["x@a".to_owned()];
        if let Ok(Some(h)) = p.multi("H") {
            h.apply(&mut list);
        }
        assert_eq!(list, ["z@a"]);
        if let Ok(Some(l)) = p.multi("L") {
            l.apply(&mut list);
        }
        assert_eq!(list, ["x@a", "y@a"]);
        let bad = Params::bind(declared, Some(&json!({"H": {"Replace": []}}))).unwrap_or_default();
        assert!(bad.multi("H").is_err());
    }
}
