# Monthly budget on the environment's resource group, notifying the same action group.
# Snowflake credits are billed by Snowflake, not Azure: see docs/costs.md for that part.
resource "azurerm_consumption_budget_resource_group" "this" {
  name              = "budget-${var.name}"
  resource_group_id = data.azurerm_resource_group.this.id
  amount            = var.budget_amount
  time_grain        = "Monthly"

  time_period {
    # The first day of the month of the first apply; a budget's start cannot move later.
    start_date = formatdate("YYYY-MM-01'T'00:00:00Z", timestamp())
  }

  dynamic "notification" {
    for_each = toset(var.budget_thresholds)
    content {
      enabled        = true
      threshold      = notification.value
      threshold_type = "Actual"
      operator       = "GreaterThanOrEqualTo"
      contact_groups = [azurerm_monitor_action_group.this.id]
    }
  }

  # Forecast: warn before the month closes over budget.
  notification {
    enabled        = true
    threshold      = 100
    threshold_type = "Forecasted"
    operator       = "GreaterThan"
    contact_groups = [azurerm_monitor_action_group.this.id]
  }

  lifecycle {
    ignore_changes = [time_period]
  }
}
