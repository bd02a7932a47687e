output "action_group_id" {
  description = "ID of the action group every alert and the budget notify."
  value       = azurerm_monitor_action_group.this.id
}

output "alert_names" {
  description = "Names of the scheduled-query and metric alert rules."
  value = concat(
    [for rule in azurerm_monitor_scheduled_query_rules_alert_v2.this : rule.name],
    [azurerm_monitor_metric_alert.dead_letters.name, azurerm_monitor_metric_alert.dead_letter_growth.name],
  )
}

output "budget_id" {
  description = "ID of the resource-group consumption budget."
  value       = azurerm_consumption_budget_resource_group.this.id
}

output "workbook_id" {
  description = "ID of the operations workbook."
  value       = azurerm_application_insights_workbook.operations.id
}
