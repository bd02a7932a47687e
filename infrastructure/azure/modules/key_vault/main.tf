data "azurerm_client_config" "current" {}

# RBAC-mode vault with purge protection. Terraform never holds the values of human-managed
# secrets (WHOOP client secret, token encryption key, Snowflake key): operators set them with
# `az keyvault secret set`, and apps reference them by versionless ID through their identity.
resource "azurerm_key_vault" "this" {
  name                          = var.name
  location                      = var.location
  resource_group_name           = var.resource_group_name
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  sku_name                      = "standard"
  rbac_authorization_enabled    = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = var.soft_delete_retention_days
  public_network_access_enabled = var.public_network_access_enabled
  tags                          = var.tags

  network_acls {
    bypass         = "AzureServices"
    default_action = var.public_network_access_enabled ? "Allow" : "Deny"
  }
}
