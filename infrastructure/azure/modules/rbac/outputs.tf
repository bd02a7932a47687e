output "identities" {
  description = "Map of service name to its runtime identity: resource ID, principal ID and client ID (AZURE_CLIENT_ID)."
  value = {
    for name, identity in azurerm_user_assigned_identity.service : name => {
      client_id    = identity.client_id
      principal_id = identity.principal_id
      resource_id  = identity.id
    }
  }
}

output "role_assignments" {
  description = "Every role assignment this module made, as key => { role, scope }, for review and audits."
  value = merge(
    { for k, ra in azurerm_role_assignment.bus_receiver : "receiver:${k}" => { role = ra.role_definition_name, scope = ra.scope } },
    { for k, ra in azurerm_role_assignment.bus_sender : "sender:${k}" => { role = ra.role_definition_name, scope = ra.scope } },
    { for k, ra in azurerm_role_assignment.bus_scaler : "scaler:${k}" => { role = ra.role_definition_name, scope = ra.scope } },
    { for k, ra in azurerm_role_assignment.lake_reader : "lake:${k}" => { role = ra.role_definition_name, scope = ra.scope } },
    { for k, ra in azurerm_role_assignment.lake_writer : "lake:${k}" => { role = ra.role_definition_name, scope = ra.scope } },
    { for k, ra in azurerm_role_assignment.tokens : "tokens:${k}" => { role = ra.role_definition_name, scope = ra.scope } },
    { for k, ra in azurerm_role_assignment.key_vault : "key_vault:${k}" => { role = ra.role_definition_name, scope = ra.scope } },
  )
}

output "scaler_identities" {
  description = "Map of consuming service name to the resource ID of its KEDA scaler identity."
  value       = { for name, identity in azurerm_user_assigned_identity.scaler : name => identity.id }
}
