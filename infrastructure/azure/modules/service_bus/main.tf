# The Service Bus namespace. Local (SAS) auth is off: every client, KEDA scaler and Event Grid
# delivery authenticates with a managed identity and an RBAC role scoped to one topic or
# subscription (see modules/rbac), so there is no connection string to leak or rotate.
resource "azurerm_servicebus_namespace" "this" {
  name                          = var.name
  location                      = var.location
  resource_group_name           = var.resource_group_name
  sku                           = var.sku
  capacity                      = var.sku == "Premium" ? var.premium_capacity : 0
  premium_messaging_partitions  = var.sku == "Premium" ? 1 : 0
  local_auth_enabled            = false
  minimum_tls_version           = "1.2"
  public_network_access_enabled = var.public_network_access_enabled
  tags                          = var.tags

  # Network isolation (Premium only): deny public traffic; trusted Azure services (the Event
  # Grid system topic delivering BlobCreated with its managed identity) still get through.
  dynamic "network_rule_set" {
    for_each = var.public_network_access_enabled ? [] : [1]
    content {
      default_action                = "Deny"
      public_network_access_enabled = false
      trusted_services_allowed      = true
    }
  }

  # Needed for customer-managed keys on Premium; harmless on Standard.
  identity {
    type = "SystemAssigned"
  }
}
