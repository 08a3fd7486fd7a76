-- The optional cmdlets of device actions (issue 13) the connector's identity may not run, as the
-- last set-up's pre-flight or a refused write found them: comma-separated names, '' for none.
ALTER TABLE connectors ADD COLUMN denied_optional TEXT NOT NULL DEFAULT '';
