-- Exchange's request id of an audited write (issue 13), for a ticket with Microsoft.
ALTER TABLE audit_log ADD COLUMN request_id TEXT;
