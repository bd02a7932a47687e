# Network isolation (var.enabled): a virtual network for the Container Apps environment, and
# private endpoints with private DNS for Service Bus, the lake (blob + dfs) and Key Vault. The
# env root turns public network access off on those three when this is on. Nothing is created
# when it is off (the default: the Consumption environment talks to them over public endpoints
# with Entra ID auth).
resource "azurerm_virtual_network" "this" {
  count = var.enabled ? 1 : 0

  name                = "vnet-${var.name}"
  location            = var.location
  resource_group_name = var.resource_group_name
  address_space       = [var.address_space]
  tags                = var.tags
}

resource "azurerm_subnet" "container_apps" {
  count = var.enabled ? 1 : 0

  name                 = "snet-${var.name}-container-apps"
  resource_group_name  = var.resource_group_name
  virtual_network_name = azurerm_virtual_network.this[0].name
  address_prefixes     = [local.container_apps_subnet]
}

resource "azurerm_subnet" "private_endpoints" {
  count = var.enabled ? 1 : 0

  name                 = "snet-${var.name}-private-endpoints"
  resource_group_name  = var.resource_group_name
  virtual_network_name = azurerm_virtual_network.this[0].name
  address_prefixes     = [local.private_endpoints_subnet]
}
