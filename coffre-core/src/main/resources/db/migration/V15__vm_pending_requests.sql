-- What a VM's create or delete needs to be resumed after a crash: {"caller": principal, "body": the create's PUT
-- body} or {"caller": principal, "after": the provisioning state the delete started from}; null once settled.
ALTER TABLE compute_virtual_machines ADD COLUMN pending_request VARCHAR;
