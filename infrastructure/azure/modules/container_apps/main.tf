# The Container Apps environment: Consumption plan, logs to the shared Log Analytics workspace.
resource "azurerm_container_app_environment" "this" {
  name                       = var.name
  location                   = var.location
  resource_group_name        = var.resource_group_name
  log_analytics_workspace_id = var.log_analytics_workspace_id
  logs_destination           = "log-analytics"
  # Network isolation: a VNet-integrated environment (external ingress stays on for the
  # receiver's OAuth callback and WHOOP webhooks) reaches Service Bus, the lake and Key Vault
  # through their private endpoints. Changing it replaces the environment.
  infrastructure_subnet_id = var.infrastructure_subnet_id
  tags                     = var.tags
}
