# Data-plane access logs for the lake and the token container: who wrote or read which blob is
# the audit trail behind "every bronze file is exactly as WHOOP returned it".
resource "azurerm_monitor_diagnostic_setting" "services" {
  for_each = local.diagnostic_targets

  name                       = "to-log-analytics"
  target_resource_id         = each.value
  log_analytics_workspace_id = var.log_analytics_workspace_id

  enabled_log {
    category = "StorageRead"
  }

  enabled_log {
    category = "StorageWrite"
  }

  enabled_log {
    category = "StorageDelete"
  }

  enabled_metric {
    category = "Transaction"
  }
}
