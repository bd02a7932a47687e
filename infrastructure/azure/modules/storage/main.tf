# ADLS Gen2 account for the lake. Shared keys are disabled: services, Event Grid and operators
# all use Entra ID with roles scoped to a container (modules/rbac), and nothing is ever public.
resource "azurerm_storage_account" "this" {
  name                              = var.name
  location                          = var.location
  resource_group_name               = var.resource_group_name
  account_kind                      = "StorageV2"
  account_tier                      = "Standard"
  account_replication_type          = var.replication_type
  is_hns_enabled                    = true
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  allow_nested_items_to_be_public   = false
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  cross_tenant_replication_enabled  = false
  infrastructure_encryption_enabled = true
  local_user_enabled                = false
  public_network_access_enabled     = var.public_network_access_enabled
  tags                              = var.tags

  # Network isolation: deny everything but the private endpoints and trusted Azure services
  # (Event Grid writing dead letters with its managed identity).
  dynamic "network_rules" {
    for_each = var.public_network_access_enabled ? [] : [1]
    content {
      default_action = "Deny"
      bypass         = ["AzureServices"]
    }
  }

  blob_properties {
    delete_retention_policy {
      days = var.soft_delete_retention_days
    }
    container_delete_retention_policy {
      days = var.soft_delete_retention_days
    }
  }
}
