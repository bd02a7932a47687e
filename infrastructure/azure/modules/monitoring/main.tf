# Alerting for one environment: an action group every alert and the budget notify, log alerts
# in KQL on the workspace (main.alerts.tf), Service Bus metric alerts, the operations workbook
# (main.workbook.tf) and the resource-group budget (main.budget.tf). Runbook per alert:
# docs/operations.md ("Azure profile").
data "azurerm_resource_group" "this" {
  name = var.resource_group_name
}

resource "azurerm_monitor_action_group" "this" {
  name                = "ag-${var.name}"
  resource_group_name = var.resource_group_name
  short_name          = substr(replace(var.name, "-", ""), 0, 12)
  tags                = var.tags

  dynamic "email_receiver" {
    for_each = toset(var.alert_emails)
    content {
      name                    = "email-${index(var.alert_emails, email_receiver.value)}"
      email_address           = email_receiver.value
      use_common_alert_schema = true
    }
  }
}

# Service Bus metrics (ActiveMessages = queue depth, DeadletteredMessages, Incoming/Completed)
# into the workspace, so the workbook charts them with KQL (AzureMetrics) beside the app data.
resource "azurerm_monitor_diagnostic_setting" "servicebus" {
  name                       = "diag-servicebus-to-log-analytics"
  target_resource_id         = var.servicebus_namespace_id
  log_analytics_workspace_id = var.log_analytics_workspace_id

  enabled_log {
    category = "OperationalLogs"
  }

  enabled_metric {
    category = "AllMetrics"
  }
}
