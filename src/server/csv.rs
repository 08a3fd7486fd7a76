//! CSV exports of the ledgers (sync history, audit log): RFC 4180 records with CRLF line ends.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};

use crate::error::ApiError;

use super::error::AppError;

/// A CSV download named `file_name` (never cached), or the failure's status and plain message.
pub(crate) fn download(file_name: &str, body: Result<String, AppError>) -> Response {
    match body {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{file_name}\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            body,
        )
            .into_response(),
        Err(e) => {
            let api = ApiError::from(e);
            let status = StatusCode::from_u16(api.status_code())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, api.to_string()).into_response()
        }
    }
}

/// A time as the exports write it: UTC, RFC 3339, milliseconds (`2026-11-24T10:00:00.000Z`).
pub(crate) fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Appends one record: fields separated by commas, quoted only when they need it, CRLF after.
pub(crate) fn push_record(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_field(out, &field, false);
    }
    out.push_str("\r\n");
}

/// Appends one RFC 4180 field without building it apart: quoted only when it needs it, its
/// quotes doubled; `inert` first gives a field a spreadsheet would run a leading `'` (as
/// [`inert`] does).
pub(crate) fn push_field(out: &mut String, field: &str, inert: bool) {
    let mark = inert && runs_as_formula(field);
    if field.contains([',', '"', '\r', '\n']) {
        out.push('"');
        if mark {
            out.push('\'');
        }
        for (i, part) in field.split('"').enumerate() {
            if i > 0 {
                out.push_str("\"\"");
            }
            out.push_str(part);
        }
        out.push('"');
    } else {
        if mark {
            out.push('\'');
        }
        out.push_str(field);
    }
}

fn runs_as_formula(field: &str) -> bool {
    field.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// A field a spreadsheet will not run: one starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return gets a leading `'` (OWASP's advice against CSV formula injection). For
/// exports that carry text others typed (an audit log's actor is whatever a sign-in sent).
pub(crate) fn inert(field: String) -> String {
    if runs_as_formula(&field) {
        format!("'{field}")
    } else {
        field
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(field: &str) -> String {
        let mut out = String::new();
        push_field(&mut out, field, false);
        out
    }

    #[test]
    fn csv_fields_are_quoted_only_when_they_need_it() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("two\nlines"), "\"two\nlines\"");
        let mut out = String::new();
        push_record(&mut out, ["x".to_owned(), "y,z".to_owned()]);
        assert_eq!(out, "x,\"y,z\"\r\n");
    }

    #[test]
    fn cells_a_spreadsheet_would_run_as_formulas_get_a_leading_quote() {
        for formula in ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(inert(formula.to_owned()), format!("'{formula}"));
        }
        assert_eq!(inert("admin@contoso.test".to_owned()), "admin@contoso.test");
        assert_eq!(inert(String::new()), "");
        let mut out = String::new();
        push_record(&mut out, [inert("=HYPERLINK(\"x\",\"y\")".to_owned())]);
        assert_eq!(out, "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"\r\n");
        let mut direct = String::new();
        push_field(&mut direct, "=HYPERLINK(\"x\",\"y\")", true);
        direct.push_str("\r\n");
        assert_eq!(direct, out);
        for plain in ["", "x", "a,b", "-1", "\rx", "say \"hi\""] {
            let mut direct = String::new();
            push_field(&mut direct, plain, true);
            assert_eq!(direct, quote(&inert(plain.to_owned())), "{plain:?}");
        }
    }
}
