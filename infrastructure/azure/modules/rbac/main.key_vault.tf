# Read secrets: at run time (receiver, extractor) or as Container App Key Vault references
# (Snowflake key, Application Insights connection string). Vault scope, because a role on a
# single secret needs the secret to exist first and operators create them after the apply.
resource "azurerm_role_assignment" "key_vault" {
  for_each = var.services

  scope                = var.key_vault_id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_user_assigned_identity.service[each.key].principal_id
  principal_type       = "ServicePrincipal"
  description          = "${each.key} reads its secrets (runtime or Container App reference)."
}
