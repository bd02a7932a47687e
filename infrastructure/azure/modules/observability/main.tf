# One Log Analytics workspace per environment: Container Apps console/system logs and the
# workspace-based Application Insights data (OpenTelemetry traces from every service) land in
# the same place, so one KQL query can join a trace id with the logs of all five services.
resource "azurerm_log_analytics_workspace" "this" {
  name                       = var.name
  location                   = var.location
  resource_group_name        = var.resource_group_name
  sku                        = "PerGB2018"
  retention_in_days          = var.retention_in_days
  daily_quota_gb             = var.daily_quota_gb
  internet_ingestion_enabled = true
  internet_query_enabled     = true
  tags                       = var.tags
}
