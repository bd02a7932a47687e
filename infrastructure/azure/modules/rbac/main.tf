# One user-assigned identity per service: each service's rights are exactly the rows of the
# contract table that concern it, and revoking one service never touches another.
resource "azurerm_user_assigned_identity" "service" {
  for_each = var.services

  name                = "${var.name_prefix}-${each.key}"
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = var.tags
}

# KEDA's azure-servicebus scaler reads subscription message counts through the management
# API, which needs Manage rights. A separate identity holds them so the service's own code
# (which only ever uses its runtime identity via AZURE_CLIENT_ID) can never manage entities.
resource "azurerm_user_assigned_identity" "scaler" {
  for_each = local.consumers

  name                = "${var.name_prefix}-${each.key}-scaler"
  location            = var.location
  resource_group_name = var.resource_group_name
  tags                = var.tags
}
