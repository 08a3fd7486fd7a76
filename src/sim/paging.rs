//! Server-driven paging: page size from `Prefer: odata.maxpagesize`, opaque `$skiptoken`s that
//! carry a keyset position (so devices added or removed between pages never shift the rest) and
//! a fingerprint of the cmdlet and its parameters (so a token cannot be replayed elsewhere).

use serde_json::Value;

use super::params::Params;

/// Most rows a page may hold, whatever the client prefers.
pub(crate) const MAX_PAGE: usize = 1000;

/// Page size: `odata.maxpagesize` from the `Prefer` header (1..=1000; other values ignored,
/// larger ones capped), never above the server's `cap` (at least 1).
pub(crate) fn page_size(prefer: Option<&str>, cap: usize) -> usize {
    let cap = cap.clamp(1, MAX_PAGE);
    let preferred = prefer
        .into_iter()
        .flat_map(|h| h.split([',', ';']))
        .find_map(|pref| {
            let (name, value) = pref.split_once('=')?;
            if !name.trim().eq_ignore_ascii_case("odata.maxpagesize") {
                return None;
            }
            let n: u64 = value.trim().trim_matches('"').parse().ok()?;
            (n > 0).then(|| usize::try_from(n.min(MAX_PAGE as u64)).unwrap_or(MAX_PAGE))
        });
    preferred.unwrap_or(MAX_PAGE).min(cap)
}

/// Where the next page of one cmdlet call starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SkipToken {
    /// Canonical cmdlet name.
    pub(crate) cmdlet: String,
    /// [`fingerprint`] of the call's parameters.
    pub(crate) fingerprint: u64,
    /// Paging key of the last row already returned.
    pub(crate) after: u64,
    /// Rows returned so far over all pages (for a numeric `ResultSize`).
    pub(crate) returned: u64,
}

const VERSION: &str = "x1";

impl SkipToken {
    /// Opaque, URL-safe text (hex; the content is not a contract).
    pub(crate) fn encode(&self) -> String {
        let plain = format!(
            "{VERSION}|{}|{:016x}|{}|{}",
            self.cmdlet, self.fingerprint, self.after, self.returned
        );
        plain.bytes().map(|b| format!("{:02x}", b ^ 0x5a)).collect()
    }

    /// `None` for anything [`SkipToken::encode`] did not produce.
    pub(crate) fn decode(token: &str) -> Option<Self> {
        if !token.len().is_multiple_of(2) || token.len() > 512 {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..token.len())
            .step_by(2)
            .map(|i| {
                token
                    .get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .map(|b| b ^ 0x5a)
            })
            .collect();
        let plain = String::from_utf8(bytes?).ok()?;
        let mut parts = plain.split('|');
        let (Some(VERSION), Some(cmdlet), Some(fp), Some(after), Some(returned), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        Some(Self {
            cmdlet: cmdlet.to_owned(),
            fingerprint: u64::from_str_radix(fp, 16).ok()?,
            after: after.parse().ok()?,
            returned: returned.parse().ok()?,
        })
    }
}

/// FNV-1a over the cmdlet name and its parameters in canonical order (names sorted, JSON objects
/// with sorted keys), so the same call always gets the same fingerprint.
pub(crate) fn fingerprint(cmdlet: &str, params: &Params) -> u64 {
    let mut h = Fnv::default();
    h.write(cmdlet.to_ascii_lowercase().as_bytes());
    for (name, value) in params.canonical() {
        h.write(b"\0");
        h.write(name.as_bytes());
        h.write(b"=");
        hash_value(&mut h, value);
    }
    h.0
}

struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn hash_value(h: &mut Fnv, value: &Value) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            h.write(b"{");
            for k in keys {
                h.write(k.as_bytes());
                h.write(b":");
                if let Some(v) = map.get(k) {
                    hash_value(h, v);
                }
                h.write(b",");
            }
            h.write(b"}");
        }
        Value::Array(items) => {
            h.write(b"[");
            for v in items {
                hash_value(h, v);
                h.write(b",");
            }
            h.write(b"]");
        }
        other => h.write(other.to_string().as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn page_size_follows_prefer_within_limits() {
        assert_eq!(page_size(None, 1000), 1000);
        assert_eq!(page_size(Some("odata.maxpagesize=7"), 1000), 7);
        assert_eq!(
            page_size(Some("return=minimal, odata.maxpagesize = \"25\""), 1000),
            25
        );
        assert_eq!(
            page_size(Some("odata.maxpagesize=99999999999999999999"), 1000),
            1000
        );
        assert_eq!(page_size(Some("odata.maxpagesize=5000"), 1000), 1000);
        assert_eq!(page_size(Some("odata.maxpagesize=0"), 1000), 1000);
        assert_eq!(page_size(Some("odata.maxpagesize=abc"), 300), 300);
        assert_eq!(page_size(Some("odata.maxpagesize=500"), 100), 100);
        assert_eq!(page_size(None, 0), 1);
    }

    #[test]
    fn skiptoken_round_trips_and_rejects_garbage() {
        let t = SkipToken {
            cmdlet: "Get-MobileDevice".into(),
            fingerprint: 0xdead_beef,
            after: 42,
            returned: 7,
        };
        let s = t.encode();
        assert!(s.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(SkipToken::decode(&s), Some(t));
        for bad in ["", "abc", "zz", "0000", &"ab".repeat(300), "\u{e9}\u{e9}"] {
            assert_eq!(SkipToken::decode(bad), None, "{bad}");
        }
        let mut tampered = s.clone();
        tampered.replace_range(0..2, "00");
        assert_eq!(SkipToken::decode(&tampered), None);
    }

    #[test]
    fn fingerprint_ignores_key_order_but_not_values() {
        let declared: &[&'static str] = &["Mailbox", "ResultSize", "Filter"];
        let a = Params::bind(
            declared,
            Some(&json!({"Mailbox": "a", "ResultSize": "Unlimited"})),
        )
        .unwrap_or_default();
        let b = Params::bind(
            declared,
            Some(&json!({"resultsize": "Unlimited", "mailbox": "a"})),
        )
        .unwrap_or_default();
        let c = Params::bind(
            declared,
            Some(&json!({"Mailbox": "b", "ResultSize": "Unlimited"})),
        )
        .unwrap_or_default();
        assert_eq!(
            fingerprint("Get-MobileDevice", &a),
            fingerprint("get-mobiledevice", &b)
        );
        assert_ne!(
            fingerprint("Get-MobileDevice", &a),
            fingerprint("Get-MobileDevice", &c)
        );
        assert_ne!(
            fingerprint("Get-MobileDevice", &a),
            fingerprint("Get-MobileDeviceStatistics", &a)
        );
    }
}
