-- No query reads devices by mailbox, and keeping this index cost a first sync of 100,000
-- devices about a third of its final transaction (its entries go in at random).
DROP INDEX IF EXISTS devices_connector_mailbox;
