# The operations workbook: throughput, latency per stage, success rate (per stage and end to
# end, same KQL as the alert), queue depth, dead letters, WHOOP quota and member freshness.
resource "azurerm_application_insights_workbook" "operations" {
  name                = uuidv5("url", "https://whoop-data-platform/workbooks/${var.name}/operations")
  resource_group_name = var.resource_group_name
  location            = var.location
  display_name        = "${var.name}: pipeline operations"
  source_id           = lower(var.app_insights_id)
  category            = "workbook"
  tags                = var.tags

  data_json = jsonencode({
    version = "Notebook/1.0"
    items = [
      for i, panel in local.workbook_panels : {
        type = 3
        name = panel.key
        content = {
          version                 = "KqlItem/1.0"
          title                   = panel.title
          query                   = panel.query
          size                    = 0
          timeContext             = { durationMs = panel.duration_ms }
          queryType               = 0
          resourceType            = "microsoft.operationalinsights/workspaces"
          crossComponentResources = [var.log_analytics_workspace_id]
          visualization           = panel.chart
        }
      }
    ]
    isLocked = false
  })
}

locals {
  workbook_panels = [
    {
      key         = "throughput"
      title       = "Throughput: messages completed per stage (5 min)"
      chart       = "timechart"
      duration_ms = 86400000
      query       = <<-KQL
        AppRequests
        | where Name has "consume" and Success == true
        | extend n = coalesce(toint(Properties["messaging.batch.message_count"]), 1)
        | summarize completed = sum(n) by stage = AppRoleName, bin(TimeGenerated, 5m)
      KQL
    },
    {
      key         = "latency"
      title       = "Latency per stage (p50 / p95 ms of the consume span)"
      chart       = "table"
      duration_ms = 86400000
      query       = <<-KQL
        AppRequests
        | where Name has "consume"
        | summarize p50_ms = percentile(DurationMs, 50), p95_ms = percentile(DurationMs, 95), spans = count() by stage = AppRoleName, span = Name
      KQL
    },
    {
      key         = "success_rate_stages"
      title       = "Success rate per stage (completed / finished)"
      chart       = "table"
      duration_ms = 3600000
      query       = local.kql_stage_success
    },
    {
      key         = "success_rate_e2e"
      title       = "Success rate end to end (product of the stages; SLO ${var.success_rate_slo * 100} %)"
      chart       = "tiles"
      duration_ms = 3600000
      query       = local.kql_success_rate
    },
    {
      key         = "queue_depth"
      title       = "Queue depth (active messages per topic)"
      chart       = "timechart"
      duration_ms = 86400000
      query       = <<-KQL
        AzureMetrics
        | where ResourceProvider == "MICROSOFT.SERVICEBUS" and MetricName == "ActiveMessages"
        | summarize active = max(Maximum) by bin(TimeGenerated, 5m), Resource
      KQL
    },
    {
      key         = "dead_letters"
      title       = "Dead letters (broker count and dead-lettering by topic and reason)"
      chart       = "table"
      duration_ms = 86400000
      query       = <<-KQL
        AzureMetrics
        | where ResourceProvider == "MICROSOFT.SERVICEBUS" and MetricName == "DeadletteredMessages"
        | summarize dead_lettered_now = arg_max(TimeGenerated, Maximum) by Resource
        | project Resource, dead_lettered_now = Maximum
        | union (${trimspace(local.kql_dead_letters)})
      KQL
    },
    {
      key         = "quota"
      title       = "WHOOP quota: requests in the trailing 24 h (of ${var.whoop_daily_quota})"
      chart       = "tiles"
      duration_ms = 86400000
      query       = local.kql_quota
    },
    {
      key         = "freshness"
      title       = "Freshness per member (hours since the last successful sync; SLA ${var.freshness_sla_hours} h)"
      chart       = "table"
      duration_ms = 172800000
      query       = "${local.kql_freshness}| order by stale_hours desc\n"
    },
  ]
}
