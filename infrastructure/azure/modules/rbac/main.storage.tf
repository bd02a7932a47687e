# Blob data roles are scoped to the lake container, never the account.
resource "azurerm_role_assignment" "lake_reader" {
  for_each = local.blob_readers

  scope                = var.lake_container_id
  role_definition_name = "Storage Blob Data Reader"
  principal_id         = azurerm_user_assigned_identity.service[each.key].principal_id
  principal_type       = "ServicePrincipal"
  description          = "${each.key} reads the lake container."
}

resource "azurerm_role_assignment" "lake_writer" {
  for_each = local.blob_writers

  scope                = var.lake_container_id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.service[each.key].principal_id
  principal_type       = "ServicePrincipal"
  description          = "${each.key} writes the lake container."
}

# The encrypted token container (blobs and leases), scoped to that one container.
resource "azurerm_role_assignment" "tokens" {
  for_each = local.token_users

  scope                = var.token_container_id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.service[each.key].principal_id
  principal_type       = "ServicePrincipal"
  description          = "${each.key} reads and writes encrypted OAuth tokens."
}
