# Pull images from the project's registry, when one is given.
resource "azurerm_role_assignment" "acr_pull" {
  for_each = var.container_registry_id == null ? {} : var.services

  scope                = var.container_registry_id
  role_definition_name = "AcrPull"
  principal_id         = azurerm_user_assigned_identity.service[each.key].principal_id
  principal_type       = "ServicePrincipal"
  description          = "${each.key} pulls its image."
}
