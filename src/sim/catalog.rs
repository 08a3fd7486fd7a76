//! Static tables the tenant generator draws from: people's names and realistic mobile clients.
//! Values are `&'static str` so a 100k-device tenant stores pointers, not copies.

use super::tenant::ClientType;

pub(crate) const FIRST_NAMES: &[&str] = &[
    "Adele",
    "Alex",
    "Allan",
    "Amara",
    "Anna",
    "Arjun",
    "Ben",
    "Bianca",
    "Carlos",
    "Chen",
    "Chloe",
    "Christie",
    "Daniel",
    "Diego",
    "Eleni",
    "Elif",
    "Emily",
    "Enrico",
    "Fatima",
    "Femi",
    "Grady",
    "Hana",
    "Henrietta",
    "Ines",
    "Isaiah",
    "Jana",
    "Johanna",
    "Joni",
    "Jun",
    "Karim",
    "Kenji",
    "Lara",
    "Lee",
    "Lidia",
    "Lynne",
    "Mateo",
    "Megan",
    "Miriam",
    "Nestor",
    "Nia",
    "Noor",
    "Olga",
    "Omar",
    "Patti",
    "Pradeep",
    "Priya",
    "Rafael",
    "Ravi",
    "Sara",
    "Sven",
    "Tomasz",
    "Ulla",
    "Valentina",
    "Wei",
    "Xavier",
    "Yara",
    "Yusuf",
    "Zoe",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Adams",
    "Ahmed",
    "Andersson",
    "Archer",
    "Bakker",
    "Becker",
    "Bernard",
    "Chowdhury",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fernandes",
    "Fischer",
    "Garcia",
    "Gonzalez",
    "Haddad",
    "Hansen",
    "Hoffmann",
    "Ivanova",
    "Jansen",
    "Kaur",
    "Kim",
    "Kowalski",
    "Lambert",
    "Larsen",
    "Lopez",
    "Martin",
    "Meyer",
    "Moreau",
    "Murphy",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Okafor",
    "Olsen",
    "Patel",
    "Peeters",
    "Petrov",
    "Quinn",
    "Rossi",
    "Russo",
    "Sato",
    "Schmidt",
    "Silva",
    "Singh",
    "Smith",
    "Sorensen",
    "Tanaka",
    "Thompson",
    "Vargas",
    "Visser",
    "Wagner",
    "Wang",
    "Weber",
    "Williams",
    "Wright",
    "Yilmaz",
    "Zhang",
];

pub(crate) const OPERATORS: &[&str] = &[
    "Vodafone",
    "T-Mobile",
    "Orange",
    "Telekom.de",
    "AT&T",
    "Verizon",
    "KPN",
    "O2 - UK",
    "Proximus",
];

pub(crate) const OS_LANGUAGES: &[&str] = &["en-US", "en-GB", "de-DE", "fr-FR", "nl-NL", "es-ES"];

/// One concrete hardware model: the `DeviceType` it reports, its `DeviceModel` and a friendly name.
pub(crate) struct Variant {
    pub(crate) device_type: &'static str,
    pub(crate) model: &'static str,
    pub(crate) friendly: &'static str,
}

/// One OS build: the `DeviceOS` text and the version token its user agent carries.
pub(crate) struct OsBuild {
    pub(crate) device_os: &'static str,
    pub(crate) ua_version: &'static str,
}

/// How a profile's `DeviceUserAgent` is spelled.
pub(crate) enum UserAgent {
    /// `{prefix}{DeviceModel}/{os ua_version}` (Apple and Samsung native mail).
    ModelSlashOs(&'static str),
    /// One of these strings, whatever the model.
    Fixed(&'static [&'static str]),
}

/// How a profile's `DeviceId` looks.
#[derive(Clone, Copy)]
pub(crate) enum IdStyle {
    /// 32 upper-case letters and digits (iOS).
    AppleUpper,
    /// `SEC` + 13 upper-case hex digits (Samsung mail).
    Samsung,
    /// `androidc` + 10 digits (Gmail and other Android apps).
    AndroidC,
    /// 32 lower-case hex digits (Outlook and REST clients).
    LowerHex,
    /// 32 upper-case hex digits (Windows).
    UpperHex,
}

/// A kind of mobile client seen in real tenants, with how often it appears.
pub(crate) struct Profile {
    pub(crate) weight: u32,
    pub(crate) variants: &'static [Variant],
    pub(crate) builds: &'static [OsBuild],
    pub(crate) user_agent: UserAgent,
    pub(crate) client_type: ClientType,
    /// `(ClientVersion, weight)`.
    pub(crate) client_versions: &'static [(&'static str, u32)],
    pub(crate) id_style: IdStyle,
    /// Phones report an operator and sometimes a number and IMEI; tablets and PCs do not.
    pub(crate) is_phone: bool,
    /// Share of these devices enrolled in Intune (IsManaged).
    pub(crate) managed_share: f64,
}

const fn var(device_type: &'static str, model: &'static str, friendly: &'static str) -> Variant {
    Variant {
        device_type,
        model,
        friendly,
    }
}

const fn os(device_os: &'static str, ua_version: &'static str) -> OsBuild {
    OsBuild {
        device_os,
        ua_version,
    }
}

const IPHONES: &[Variant] = &[
    var("iPhone", "iPhone17C1", "iPhone 16 Pro"),
    var("iPhone", "iPhone17C3", "iPhone 16"),
    var("iPhone", "iPhone16C2", "iPhone 15 Pro Max"),
    var("iPhone", "iPhone15C4", "iPhone 15"),
    var("iPhone", "iPhone14C7", "iPhone 14"),
    var("iPhone", "iPhone14C5", "iPhone 13"),
    var("iPhone", "iPhone12C1", "iPhone 11"),
];

const IPADS: &[Variant] = &[
    var("iPad", "iPad13C18", "iPad (10th generation)"),
    var("iPad", "iPad14C3", "iPad Pro 11-inch (4th generation)"),
    var("iPad", "iPad13C16", "iPad Air (5th generation)"),
];

const IOS_BUILDS: &[OsBuild] = &[
    os("iOS 18.3.1 22D72", "2203.72"),
    os("iOS 18.2 22C152", "2202.152"),
    os("iOS 18.1 22B83", "2201.83"),
    os("iOS 17.6.1 21G93", "2106.93"),
    os("iOS 17.5.1 21F90", "2105.90"),
    os("iOS 16.7.10 20H350", "2007.350"),
];

const SAMSUNGS: &[Variant] = &[
    var("SAMSUNGSMS928B", "SM-S928B", "Galaxy S24 Ultra"),
    var("SAMSUNGSMS911B", "SM-S911B", "Galaxy S23"),
    var("SAMSUNGSMG998B", "SM-G998B", "Galaxy S21 Ultra"),
    var("SAMSUNGSMA546B", "SM-A546B", "Galaxy A54 5G"),
];

const SAMSUNG_BUILDS: &[OsBuild] = &[
    os("Android 15", "101.50301"),
    os("Android 14", "101.40200"),
    os("Android 13", "101.30100"),
];

const ANDROIDS: &[Variant] = &[
    var("Android", "Pixel 9", "Pixel 9"),
    var("Android", "Pixel 8a", "Pixel 8a"),
    var("Android", "Pixel 7", "Pixel 7"),
    var("Android", "2201116SG", "Redmi Note 11 Pro"),
    var("Android", "ELS-NX9", "HUAWEI P40 Pro"),
];

const ANDROID_BUILDS: &[OsBuild] = &[
    os("Android 15", ""),
    os("Android 14", ""),
    os("Android 12", ""),
    os("Android 10", ""),
];

const OUTLOOK_ON_IOS: &[Variant] = &[
    var("Outlook", "Outlook for iOS and Android", "iPhone"),
    var("Outlook", "Outlook for iOS and Android", "iPad"),
];

const OUTLOOK_IOS_BUILDS: &[OsBuild] = &[
    os("iOS 18.3.1", ""),
    os("iOS 18.2", ""),
    os("iOS 17.6.1", ""),
];

const OUTLOOK_ON_ANDROID: &[Variant] = &[
    var("Outlook", "Outlook for iOS and Android", "Galaxy S24"),
    var("Outlook", "Outlook for iOS and Android", "Pixel 8"),
];

const OUTLOOK_ANDROID_BUILDS: &[OsBuild] = &[os("Android 15", ""), os("Android 14", "")];

const WINDOWS_PCS: &[Variant] = &[
    var("WindowsMail", "Surface Pro 9", "Surface Pro 9"),
    var("WindowsMail", "HP EliteBook 840 G9", "HP EliteBook 840 G9"),
    var("WindowsMail", "Latitude 7440", "Latitude 7440"),
];

const WINDOWS_BUILDS: &[OsBuild] = &[
    os("Windows 10.0.22631", "10.0.22631"),
    os("Windows 10.0.19045", "10.0.19045"),
];

const OUTLOOK_WINDOWS: &[Variant] = &[var(
    "WindowsOutlook",
    "Outlook for Windows",
    "Outlook for Windows",
)];

const WINDOWS_11: &[OsBuild] = &[os("Windows 11", "")];

/// The client mix of the demo tenant. Weights are relative.
pub(crate) const PROFILES: &[Profile] = &[
    Profile {
        weight: 34,
        variants: IPHONES,
        builds: IOS_BUILDS,
        user_agent: UserAgent::ModelSlashOs("Apple-"),
        client_type: ClientType::Eas,
        client_versions: &[("16.1", 90), ("16.0", 7), ("14.1", 3)],
        id_style: IdStyle::AppleUpper,
        is_phone: true,
        managed_share: 0.45,
    },
    Profile {
        weight: 6,
        variants: IPADS,
        builds: IOS_BUILDS,
        user_agent: UserAgent::ModelSlashOs("Apple-"),
        client_type: ClientType::Eas,
        client_versions: &[("16.1", 92), ("16.0", 8)],
        id_style: IdStyle::AppleUpper,
        is_phone: false,
        managed_share: 0.35,
    },
    Profile {
        weight: 14,
        variants: SAMSUNGS,
        builds: SAMSUNG_BUILDS,
        user_agent: UserAgent::ModelSlashOs("Android-SAMSUNG-"),
        client_type: ClientType::Eas,
        client_versions: &[("16.1", 60), ("16.0", 25), ("14.1", 15)],
        id_style: IdStyle::Samsung,
        is_phone: true,
        managed_share: 0.4,
    },
    Profile {
        weight: 8,
        variants: ANDROIDS,
        builds: ANDROID_BUILDS,
        user_agent: UserAgent::Fixed(&[
            "Android-Mail/2024.10.20.688172346.Release",
            "Android-Mail/2023.12.03.588164210.Release",
            "Nine/4.9.4a",
            "Android/10-EAS-2.0",
        ]),
        client_type: ClientType::Eas,
        client_versions: &[("16.1", 30), ("16.0", 30), ("14.1", 40)],
        id_style: IdStyle::AndroidC,
        is_phone: true,
        managed_share: 0.15,
    },
    Profile {
        weight: 17,
        variants: OUTLOOK_ON_IOS,
        builds: OUTLOOK_IOS_BUILDS,
        user_agent: UserAgent::Fixed(&["Outlook-iOS-Android/1.0"]),
        client_type: ClientType::Outlook,
        client_versions: &[("16.1", 1)],
        id_style: IdStyle::LowerHex,
        is_phone: true,
        managed_share: 0.55,
    },
    Profile {
        weight: 11,
        variants: OUTLOOK_ON_ANDROID,
        builds: OUTLOOK_ANDROID_BUILDS,
        user_agent: UserAgent::Fixed(&["Outlook-iOS-Android/1.0"]),
        client_type: ClientType::Outlook,
        client_versions: &[("16.1", 1)],
        id_style: IdStyle::LowerHex,
        is_phone: true,
        managed_share: 0.5,
    },
    Profile {
        weight: 6,
        variants: WINDOWS_PCS,
        builds: WINDOWS_BUILDS,
        user_agent: UserAgent::ModelSlashOs("MSFT-WIN-3/"),
        client_type: ClientType::Eas,
        client_versions: &[("16.1", 70), ("16.0", 30)],
        id_style: IdStyle::UpperHex,
        is_phone: false,
        managed_share: 0.6,
    },
    Profile {
        weight: 4,
        variants: OUTLOOK_WINDOWS,
        builds: WINDOWS_11,
        user_agent: UserAgent::Fixed(&["Outlook-WindowsOutlook/1.0"]),
        client_type: ClientType::Rest,
        client_versions: &[("1.0", 1)],
        id_style: IdStyle::LowerHex,
        is_phone: false,
        managed_share: 0.6,
    },
];

/// The `DeviceUserAgent` for a model and OS build of a profile (`pick` chooses among fixed ones).
pub(crate) fn user_agent(
    profile: &Profile,
    variant: &Variant,
    build: &OsBuild,
    pick: usize,
) -> String {
    match profile.user_agent {
        // Windows Mail puts the OS build after the slash and no model at all.
        UserAgent::ModelSlashOs(prefix) if prefix.ends_with('/') => {
            format!("{prefix}{}", build.ua_version)
        }
        UserAgent::ModelSlashOs(prefix) => {
            format!("{prefix}{}/{}", variant.model, build.ua_version)
        }
        UserAgent::Fixed(list) => list
            .get(pick % list.len().max(1))
            .copied()
            .unwrap_or("")
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_have_the_real_shapes() {
        let iphone = &PROFILES[0];
        let ua = user_agent(iphone, &iphone.variants[2], &iphone.builds[2], 0);
        assert_eq!(ua, "Apple-iPhone16C2/2201.83");
        let samsung = &PROFILES[2];
        let ua = user_agent(samsung, &samsung.variants[0], &samsung.builds[0], 0);
        assert_eq!(ua, "Android-SAMSUNG-SM-S928B/101.50301");
        let windows = &PROFILES[6];
        let ua = user_agent(windows, &windows.variants[0], &windows.builds[1], 0);
        assert_eq!(ua, "MSFT-WIN-3/10.0.19045");
    }

    #[test]
    fn every_profile_is_usable() {
        for p in PROFILES {
            assert!(
                !p.variants.is_empty() && !p.builds.is_empty() && !p.client_versions.is_empty()
            );
            assert!(p.weight > 0);
        }
    }
}
