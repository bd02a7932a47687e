# Workspace-based Application Insights: the Azure Monitor OpenTelemetry exporter in
# shared.telemetry sends here when APPLICATIONINSIGHTS_CONNECTION_STRING is set.
resource "azurerm_application_insights" "this" {
  name                          = local.app_insights_name
  location                      = var.location
  resource_group_name           = var.resource_group_name
  workspace_id                  = azurerm_log_analytics_workspace.this.id
  application_type              = "other"
  retention_in_days             = var.retention_in_days
  local_authentication_disabled = false
  tags                          = var.tags
}
