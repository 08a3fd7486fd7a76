//! Exchange's own configuration as the last full sync read it: organization settings, mailbox
//! policies, device access rules and device classes. Each is replaced as a whole, inside the
//! run's final transaction.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::SqliteConnection;

use crate::server::exchange::wire::{
    DeviceAccessRule, DeviceClass, MobileDeviceMailboxPolicy, OrganizationSettings,
};

/// Replaces the organization settings of `connector_id`.
pub(crate) async fn put_settings(
    conn: &mut SqliteConnection,
    connector_id: &str,
    s: &OrganizationSettings,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let recipients =
        serde_json::to_string(&s.admin_mail_recipients).unwrap_or_else(|_| "[]".into());
    sqlx::query(
        "INSERT OR REPLACE INTO exchange_settings (connector_id, default_access_level, \
             admin_mail_recipients, user_mail_insert, ota_notification_mail_insert, \
             allow_access_for_unsupported_platform, allow_rms_support_for_unenlightened_apps, \
             is_intune_managed, tenant_admin_preference, identity, guid, when_changed, synced_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )
    .bind(connector_id)
    .bind(
        s.default_access_level
            .as_ref()
            .map(|l| l.as_str().to_owned()),
    )
    .bind(recipients)
    .bind(&s.user_mail_insert)
    .bind(&s.ota_notification_mail_insert)
    .bind(s.allow_access_for_unsupported_platform)
    .bind(s.allow_rms_support_for_unenlightened_apps)
    .bind(s.is_intune_managed)
    .bind(&s.tenant_admin_preference)
    .bind(&s.identity)
    .bind(&s.guid)
    .bind(s.when_changed)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces the mailbox policies of `connector_id`.
pub(crate) async fn put_policies(
    conn: &mut SqliteConnection,
    connector_id: &str,
    policies: &[MobileDeviceMailboxPolicy],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM mailbox_policies WHERE connector_id = ?1")
        .bind(connector_id)
        .execute(&mut *conn)
        .await?;
    for p in policies {
        let Some(identity) = p.identity.as_ref().or(p.guid.as_ref()).or(p.name.as_ref()) else {
            continue;
        };
        let settings = json!({
            "PasswordEnabled": p.password_enabled,
            "AlphanumericPasswordRequired": p.alphanumeric_password_required,
            "AllowSimplePassword": p.allow_simple_password,
            "MinPasswordLength": p.min_password_length,
            "MaxPasswordFailedAttempts": p.max_password_failed_attempts,
            "PasswordExpiration": p.password_expiration,
            "PasswordHistory": p.password_history,
            "MaxInactivityTimeLock": p.max_inactivity_time_lock,
            "MinPasswordComplexCharacters": p.min_password_complex_characters,
            "RequireDeviceEncryption": p.require_device_encryption,
            "DeviceEncryptionEnabled": p.device_encryption_enabled,
            "AllowNonProvisionableDevices": p.allow_non_provisionable_devices,
            "DevicePolicyRefreshInterval": p.device_policy_refresh_interval,
            "AttachmentsEnabled": p.attachments_enabled,
            "AllowCamera": p.allow_camera,
            "AllowBluetooth": p.allow_bluetooth,
            "AllowWiFi": p.allow_wifi,
            "AllowTextMessaging": p.allow_text_messaging,
            "AllowStorageCard": p.allow_storage_card,
            "MaxEmailAgeFilter": p.max_email_age_filter,
        });
        sqlx::query(
            "INSERT OR REPLACE INTO mailbox_policies (connector_id, identity, guid, name, \
                 is_default, settings, when_changed_utc, synced_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(connector_id)
        .bind(identity)
        .bind(&p.guid)
        .bind(&p.name)
        .bind(p.is_default)
        .bind(settings.to_string())
        .bind(p.when_changed_utc)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Replaces the device access rules of `connector_id`.
pub(crate) async fn put_rules(
    conn: &mut SqliteConnection,
    connector_id: &str,
    rules: &[DeviceAccessRule],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM device_access_rules WHERE connector_id = ?1")
        .bind(connector_id)
        .execute(&mut *conn)
        .await?;
    for r in rules {
        let Some(identity) = r.identity.as_ref().or(r.guid.as_ref()).or(r.name.as_ref()) else {
            continue;
        };
        sqlx::query(
            "INSERT OR REPLACE INTO device_access_rules (connector_id, identity, guid, name, \
                 query_string, characteristic, access_level, synced_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(connector_id)
        .bind(identity)
        .bind(&r.guid)
        .bind(&r.name)
        .bind(&r.query_string)
        .bind(r.characteristic.as_ref().map(|c| c.as_str().to_owned()))
        .bind(r.access_level.as_ref().map(|l| l.as_str().to_owned()))
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Replaces the device classes of `connector_id`.
pub(crate) async fn put_classes(
    conn: &mut SqliteConnection,
    connector_id: &str,
    classes: &[DeviceClass],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM device_classes WHERE connector_id = ?1")
        .bind(connector_id)
        .execute(&mut *conn)
        .await?;
    for c in classes {
        let fallback = format!(
            "{}|{}",
            c.device_type.as_deref().unwrap_or_default(),
            c.device_model.as_deref().unwrap_or_default()
        );
        let identity = c
            .identity
            .as_ref()
            .or(c.guid.as_ref())
            .cloned()
            .unwrap_or(fallback);
        sqlx::query(
            "INSERT OR REPLACE INTO device_classes (connector_id, identity, guid, name, \
                 device_type, device_model, last_update_time, synced_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(connector_id)
        .bind(identity)
        .bind(&c.guid)
        .bind(&c.name)
        .bind(&c.device_type)
        .bind(&c.device_model)
        .bind(c.last_update_time)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The organization settings the last sync read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StoredSettings {
    pub default_access_level: Option<String>,
    pub admin_mail_recipients: Vec<String>,
    pub user_mail_insert: Option<String>,
    pub ota_notification_mail_insert: Option<String>,
    pub read_at: Option<DateTime<Utc>>,
}

/// The organization settings of `connector_id` as the last sync read them.
pub(crate) async fn settings(
    pool: &sqlx::SqlitePool,
    connector_id: &str,
) -> Result<Option<StoredSettings>, sqlx::Error> {
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT default_access_level, admin_mail_recipients, user_mail_insert, \
                ota_notification_mail_insert, synced_at \
           FROM exchange_settings WHERE connector_id = ?1",
    )
    .bind(connector_id)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    let recipients: String = r.try_get("admin_mail_recipients")?;
    Ok(Some(StoredSettings {
        default_access_level: r.try_get("default_access_level")?,
        admin_mail_recipients: serde_json::from_str(&recipients).unwrap_or_default(),
        user_mail_insert: r.try_get("user_mail_insert")?,
        ota_notification_mail_insert: r.try_get("ota_notification_mail_insert")?,
        read_at: Some(r.try_get("synced_at")?),
    }))
}

/// The device access rules of `connector_id` as the last sync read them, in identity order:
/// (identity, name, characteristic, query string, access level).
pub(crate) async fn rules(
    pool: &sqlx::SqlitePool,
    connector_id: &str,
) -> Result<Vec<(String, String, String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT identity, COALESCE(name, identity), COALESCE(characteristic, ''), \
                COALESCE(query_string, ''), COALESCE(access_level, '') \
           FROM device_access_rules WHERE connector_id = ?1 ORDER BY identity",
    )
    .bind(connector_id)
    .fetch_all(pool)
    .await
}

/// A mailbox policy as the last sync read it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StoredPolicy {
    pub identity: String,
    pub name: String,
    pub is_default: bool,
    /// Exchange's settings by parameter name, as the sync stored them.
    pub settings: serde_json::Map<String, serde_json::Value>,
    pub when_changed: Option<DateTime<Utc>>,
}

/// The mailbox policies of `connector_id` as the last sync read them, by name.
pub(crate) async fn policies(
    pool: &sqlx::SqlitePool,
    connector_id: &str,
) -> Result<Vec<StoredPolicy>, sqlx::Error> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT identity, COALESCE(name, identity) AS name, is_default, settings, \
                when_changed_utc \
           FROM mailbox_policies WHERE connector_id = ?1 \
          ORDER BY COALESCE(name, identity) COLLATE NOCASE",
    )
    .bind(connector_id)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let settings: String = r.try_get("settings")?;
            Ok(StoredPolicy {
                identity: r.try_get("identity")?,
                name: r.try_get("name")?,
                is_default: r.try_get::<Option<bool>, _>("is_default")?.unwrap_or(false),
                settings: serde_json::from_str(&settings).unwrap_or_default(),
                when_changed: r.try_get("when_changed_utc")?,
            })
        })
        .collect()
}
