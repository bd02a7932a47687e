output "app_insights_connection_string" {
  description = "Application Insights connection string (APPLICATIONINSIGHTS_CONNECTION_STRING), stored in Key Vault by the env root."
  value       = azurerm_application_insights.this.connection_string
  sensitive   = true
}

output "app_insights_id" {
  description = "ID of the Application Insights component."
  value       = azurerm_application_insights.this.id
}

output "name" {
  description = "Name of the Log Analytics workspace."
  value       = azurerm_log_analytics_workspace.this.name
}

output "resource_id" {
  description = "ID of the Log Analytics workspace."
  value       = azurerm_log_analytics_workspace.this.id
}
