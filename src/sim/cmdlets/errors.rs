//! Cmdlet errors as Exchange Online words them (`stringId|ClassName|Message`, spec §4), and the
//! `Confirm`/`WhatIf` handling every changing cmdlet shares.

use axum::http::StatusCode;

use crate::sim::params::Params;
use crate::sim::wire::ExoError;

/// 400: a mandatory parameter was not given (PowerShell cannot prompt for it remotely).
pub(crate) fn missing_mandatory(names: &str) -> ExoError {
    ExoError::parameter(&format!(
        "Cannot process command because of one or more missing mandatory parameters: {names}."
    ))
}

/// 400: a value is outside what the property accepts.
pub(crate) fn invalid_value(param: &str, detail: &str) -> ExoError {
    ExoError::cmdlet(
        StatusCode::BAD_REQUEST,
        "Ex9A6C31",
        "Microsoft.Exchange.Data.DataValidationException",
        &format!("Cannot validate argument on parameter '{param}'. {detail}"),
    )
}

/// 400: text that is not one of an enumeration's names.
pub(crate) fn bad_enum(param: &str, value: &str, type_name: &str, names: &str) -> ExoError {
    ExoError::parameter(&format!(
        "Cannot process argument transformation on parameter '{param}'. Cannot convert value \"{value}\" to type \
         \"{type_name}\". Error: \"Unable to match the identifier name {value} to a valid enumerator name. Specify \
         one of the following enumerator names and try again: {names}\""
    ))
}

/// 400: an object with that name (or that key) exists already.
pub(crate) fn already_exists(what: &str) -> ExoError {
    ExoError::cmdlet(
        StatusCode::BAD_REQUEST,
        "Ex7F1B0E",
        "Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException",
        &format!("The object '{what}' already exists."),
    )
}

/// 400: the operation is not allowed on this object.
pub(crate) fn invalid_operation(text: &str) -> ExoError {
    ExoError::cmdlet(
        StatusCode::BAD_REQUEST,
        "Ex3B8E52",
        "Microsoft.Exchange.Configuration.Tasks.TaskInvalidOperationException",
        text,
    )
}

/// `Remove-*` cmdlets ask for confirmation and the service cannot prompt: unless the caller sent
/// `"Confirm": false`, the call fails (400) without changing anything.
pub(crate) fn confirm(params: &Params, action: &str, target: &str) -> Result<(), ExoError> {
    if params
        .get("Confirm")
        .is_some_and(|v| *v == serde_json::Value::Bool(false))
    {
        return Ok(());
    }
    Err(ExoError::cmdlet(
        StatusCode::BAD_REQUEST,
        "Ex1E5D0A",
        "System.Management.Automation.PSInvalidOperationException",
        &format!(
            "Confirmation is required: are you sure you want to perform this action? {action} \"{target}\". \
             The service cannot prompt for confirmation (PowerShell is in NonInteractive mode); send \
             \"Confirm\": false to proceed."
        ),
    ))
}

/// `WhatIf`: when set, the cmdlet validates its input and changes nothing.
pub(crate) fn what_if(params: &Params) -> Result<bool, ExoError> {
    params.switch("WhatIf")
}

/// `Identity` when the cmdlet cannot run without it.
pub(crate) fn identity(params: &Params) -> Result<&str, ExoError> {
    params
        .string("Identity")?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| missing_mandatory("Identity"))
}
