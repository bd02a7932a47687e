# Log alerts: one scheduled-query rule per entry of local.log_alerts (KQL in locals.tf).
resource "azurerm_monitor_scheduled_query_rules_alert_v2" "this" {
  for_each = local.enabled_log_alerts

  name                    = "alert-${var.name}-${replace(each.key, "_", "-")}"
  display_name            = "${var.name}: ${replace(each.key, "_", " ")}"
  description             = each.value.description
  location                = var.location
  resource_group_name     = var.resource_group_name
  scopes                  = [var.log_analytics_workspace_id]
  severity                = each.value.severity
  evaluation_frequency    = each.value.frequency
  window_duration         = each.value.window
  auto_mitigation_enabled = true
  skip_query_validation   = true
  tags                    = var.tags

  criteria {
    query                   = each.value.query
    time_aggregation_method = "Maximum"
    metric_measure_column   = each.value.measure
    operator                = each.value.operator
    threshold               = each.value.threshold

    dynamic "dimension" {
      for_each = each.value.dimension == null ? [] : [each.value.dimension]
      content {
        name     = dimension.value
        operator = "Include"
        values   = ["*"]
      }
    }

    failing_periods {
      minimum_failing_periods_to_trigger_alert = 1
      number_of_evaluation_periods             = 1
    }
  }

  action {
    action_groups = [azurerm_monitor_action_group.this.id]
    custom_properties = {
      runbook = "docs/operations.md#alert-${replace(each.key, "_", "-")}"
    }
  }
}

# Dead letters as the broker counts them, per topic (the EntityName dimension), so a dead
# letter is seen even when the consumer that dead-lettered it could not log (or the broker did
# it: MaxDeliveryCountExceeded after a crash loop, TTL expiry).
resource "azurerm_monitor_metric_alert" "dead_letters" {
  name                = "alert-${var.name}-servicebus-dead-letters"
  resource_group_name = var.resource_group_name
  scopes              = [var.servicebus_namespace_id]
  description         = "Dead-lettered messages on a topic's subscriptions above ${var.dead_letter_threshold}."
  severity            = 2
  frequency           = "PT5M"
  window_size         = "PT15M"
  auto_mitigate       = true
  tags                = var.tags

  criteria {
    metric_namespace = "Microsoft.ServiceBus/namespaces"
    metric_name      = "DeadletteredMessages"
    aggregation      = "Maximum"
    operator         = "GreaterThan"
    threshold        = var.dead_letter_threshold

    dimension {
      name     = "EntityName"
      operator = "Include"
      values   = sort(keys(var.topics))
    }
  }

  action {
    action_group_id = azurerm_monitor_action_group.this.id
  }
}

# Dead-letter *growth*: more dead letters now than an hour ago on the same topic.
resource "azurerm_monitor_metric_alert" "dead_letter_growth" {
  name                = "alert-${var.name}-servicebus-dead-letter-growth"
  resource_group_name = var.resource_group_name
  scopes              = [var.servicebus_namespace_id]
  description         = "Dead-lettered messages are growing on a topic (dynamic threshold on the hourly trend)."
  severity            = 2
  frequency           = "PT15M"
  window_size         = "PT1H"
  auto_mitigate       = true
  tags                = var.tags

  dynamic_criteria {
    metric_namespace  = "Microsoft.ServiceBus/namespaces"
    metric_name       = "DeadletteredMessages"
    aggregation       = "Maximum"
    operator          = "GreaterThan"
    alert_sensitivity = "Medium"

    dimension {
      name     = "EntityName"
      operator = "Include"
      values   = sort(keys(var.topics))
    }
  }

  action {
    action_group_id = azurerm_monitor_action_group.this.id
  }
}
