//! What the sync derives from a device when it writes it, so the device list can filter and
//! sort on it with an index: the OS family and the text search looks in (the client version as
//! a number is `model::version_key`); and the person's name in Exchange's `UserDisplayName`.

use crate::model::{Device, OsFamily};

/// The OS family from `DeviceOS` (e.g. "iOS 17.4.1 21E236", "Android 14.0.0"), else from
/// `DeviceType` and the user agent.
pub(crate) fn os_family(
    device_os: Option<&str>,
    device_type: Option<&str>,
    user_agent: Option<&str>,
) -> OsFamily {
    let known = |text: &str| {
        let t = text.to_ascii_lowercase();
        if t.starts_with("ios")
            || t.starts_with("ipados")
            || t.contains("iphone")
            || t.contains("ipad")
        {
            Some(OsFamily::Ios)
        } else if t.contains("android") {
            Some(OsFamily::Android)
        } else if t.contains("mac os") || t.starts_with("macos") || t.contains("macintosh") {
            Some(OsFamily::MacOs)
        } else if t.contains("windows") || t.starts_with("wp") {
            Some(OsFamily::Windows)
        } else {
            None
        }
    };
    [device_os, device_type, user_agent]
        .into_iter()
        .flatten()
        .find_map(known)
        .unwrap_or(OsFamily::Other)
}

/// The lower-case text search looks in: device id, mailbox, friendly name, model, OS and user
/// agent, one per line (a search text never holds a line break, so no match spans two).
pub(crate) fn search_text(d: &Device, mailbox: Option<&str>) -> String {
    let parts = [
        Some(d.device_id.as_str()),
        mailbox,
        d.friendly_name.as_deref(),
        d.device_model.as_deref(),
        d.device_os.as_deref(),
        d.device_user_agent.as_deref(),
    ];
    let mut out = String::new();
    for part in parts.into_iter().flatten() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&part.to_lowercase());
    }
    out
}

/// The person's name in `UserDisplayName`. Exchange Online often sends the directory path of
/// the mailbox ("EURPR01A001.prod.outlook.com/Microsoft Exchange Hosted Organizations/
/// contoso.onmicrosoft.com/Adele Vance"): its last segment is the name; a plain name is kept.
pub(crate) fn user_name(user_display_name: Option<&str>) -> Option<String> {
    let name = user_display_name?.trim();
    let name = name.rsplit('/').next().unwrap_or(name).trim();
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_families_come_from_the_os_then_the_type_then_the_user_agent() {
        assert_eq!(
            os_family(Some("iOS 17.4.1 21E236"), None, None),
            OsFamily::Ios
        );
        assert_eq!(
            os_family(Some("Android 14.0.0"), Some("Android"), None),
            OsFamily::Android
        );
        assert_eq!(os_family(Some("Windows 11"), None, None), OsFamily::Windows);
        assert_eq!(os_family(None, Some("iPad"), None), OsFamily::Ios);
        assert_eq!(
            os_family(Some(""), Some("Outlook"), Some("Outlook-iOS/2.0")),
            OsFamily::Other,
            "an app name says nothing of the OS unless the agent names one"
        );
        assert_eq!(
            os_family(
                None,
                None,
                Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4)")
            ),
            OsFamily::MacOs
        );
        assert_eq!(os_family(None, None, None), OsFamily::Other);
    }

    #[test]
    fn the_name_is_the_last_segment_of_a_directory_path() {
        assert_eq!(
            user_name(Some(
                "EURPR01A001.prod.outlook.com/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/Adele Vance"
            ))
            .as_deref(),
            Some("Adele Vance")
        );
        assert_eq!(
            user_name(Some("Adele Vance")).as_deref(),
            Some("Adele Vance")
        );
        assert_eq!(user_name(Some("  ")), None);
        assert_eq!(user_name(Some("a/b/")), None);
    }
}
