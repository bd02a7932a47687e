locals {
  prefix = tonumber(split("/", var.address_space)[1])
  # A consumption-only Container Apps environment needs a dedicated, undelegated /23.
  container_apps_subnet    = cidrsubnet(var.address_space, 23 - local.prefix, 0)
  private_endpoints_subnet = cidrsubnet(var.address_space, 27 - local.prefix, 16)

  # Private DNS zone per private-link subresource (Azure public cloud names).
  dns_zones = {
    servicebus = "privatelink.servicebus.windows.net"
    blob       = "privatelink.blob.core.windows.net"
    dfs        = "privatelink.dfs.core.windows.net"
    vault      = "privatelink.vaultcore.azure.net"
  }

  # One private endpoint per subresource; key = DNS zone key.
  endpoints = {
    servicebus = { resource_id = var.servicebus_namespace_id, subresource = "namespace" }
    blob       = { resource_id = var.storage_account_id, subresource = "blob" }
    dfs        = { resource_id = var.storage_account_id, subresource = "dfs" }
    vault      = { resource_id = var.key_vault_id, subresource = "vault" }
  }
}
