-- An agent's dial-out (the HTTP API): the agent's phone, then the number, with the
-- tenant's caller ID. Its usage record is agent/outbound_call, made from the CDR of the
-- number's leg.
ALTER TABLE usage_records DROP CONSTRAINT usage_records_kind_check;
ALTER TABLE usage_records ADD CONSTRAINT usage_records_kind_check
  CHECK (kind IN ('handled_call', 'ivr_session', 'recording', 'fax_pages', 'voicemail', 'outbound_attempt',
                  'outbound_call'));
