"""CRM webhooks: a tenant's call offered / answered / ended events, POSTed as JSON with an
HMAC-SHA256 signature to the URL the tenant admin set, off the call path
(fsapps.webhooks.sender), to addresses the operator allows (fsapps.webhooks.target)."""
