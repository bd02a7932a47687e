locals {
  # KQL over the workspace tables App Insights (workspace-based) writes: AppTraces (Python
  # logging: Message + Properties = the `extra` fields), AppRequests (CONSUMER spans of
  # shared.runtime.Consumer: "... consume ...", Success), AppMetrics (OpenTelemetry
  # instruments), plus ContainerAppSystemLogs_CL (Container Apps, logs_destination
  # log-analytics) and AzureMetrics (Service Bus metrics, main.tf diagnostic setting).
  # Every message string below is one the code logs; tests/unit/infra checks them against
  # the sources. The workbook reuses the same queries, so a chart and its alert agree.

  # Success rate: messages completed / messages finished, where a message finishes when it is
  # completed or dead-lettered (an abandoned message is redelivered, not finished). Per stage
  # (= service); end to end = the product of the stage rates (the probability that a message
  # passes every stage).
  kql_stage_success = <<-KQL
    let completed = AppRequests
        | where Name has "consume" and Success == true
        | extend n = coalesce(toint(Properties["messaging.batch.message_count"]), 1)
        | summarize completed = sum(n) by stage = AppRoleName;
    let dead = AppTraces
        | where Message == "dead-lettering message"
        | summarize dead_lettered = count() by stage = AppRoleName;
    completed
    | join kind=fullouter dead on stage
    | extend stage = coalesce(stage, stage1), completed = coalesce(completed, 0), dead_lettered = coalesce(dead_lettered, 0)
    | extend finished = completed + dead_lettered
    | where finished >= ${var.success_rate_min_messages}
    | extend success_rate = todouble(completed) / finished
    | project stage, completed, dead_lettered, finished, success_rate
  KQL

  kql_success_rate = <<-KQL
    ${local.kql_stage_success}
    | summarize success_rate = exp(sum(log(success_rate))), finished = sum(finished), stages = count()
  KQL

  kql_freshness = <<-KQL
    let synced = AppTraces
        | where Message in ("sync finished", "reconciled user")
        | summarize last_sync = max(TimeGenerated) by user_id = tostring(Properties.user_id);
    AppTraces
    | where isnotempty(tostring(Properties.user_id))
    | distinct user_id = tostring(Properties.user_id)
    | join kind=leftouter synced on user_id
    | extend stale_hours = iff(isnull(last_sync), 48.0, (now() - last_sync) / 1h)
    | project user_id, last_sync, stale_hours
  KQL

  kql_dead_letters = <<-KQL
    AppTraces
    | where Message == "dead-lettering message"
    | summarize dead_lettered = count() by topic = tostring(Properties.topic), reason = tostring(Properties.reason)
  KQL

  kql_reauth = <<-KQL
    AppTraces
    | where Message == "user needs re-authorisation"
    | summarize events = count(), reason = take_any(tostring(Properties.reason)) by user_id = tostring(Properties.user_id)
  KQL

  kql_quota = <<-KQL
    AppMetrics
    | where Name == "wdp.whoop.requests"
    | summarize requests = sum(Sum), throttled = sumif(Sum, tostring(Properties.status) == "429")
  KQL

  kql_transformer_failures = <<-KQL
    AppTraces
    | where AppRoleName == "transformer"
    | where Message startswith "gold audit failed"
        or Message == "dbt parse failed while warming"
        or (Message == "handler failed; abandoning for redelivery" and tostring(Properties.error) startswith "DbtBuildFailed")
        or (Message == "dead-lettering message" and tostring(Properties.reason) startswith "DbtBuildFailed")
    | extend kind = iff(Message startswith "gold audit failed", "gold_audit", "dbt_failure")
    | summarize failures = count() by kind
  KQL

  kql_heartbeat = <<-KQL
    let seen = AppMetrics
        | where Name == "wdp.service.heartbeat"
        | summarize beats = count() by service = tostring(Properties.service);
    print service = dynamic(${jsonencode(var.warm_services)})
    | mv-expand service to typeof(string)
    | join kind=leftouter seen on service
    | project service, beats = coalesce(beats, 0)
  KQL

  kql_restarts = <<-KQL
    ContainerAppSystemLogs_CL
    | where Reason_s has_any ("BackOff", "Terminated", "Crash", "ProbeFailed")
    | summarize restarts = count() by app = ContainerAppName_s
  KQL

  # One scheduled-query rule per entry. window = the query's time range; frequency = how
  # often it runs; the rule fires when <measure> <operator> <threshold> for any <dimension>.
  log_alerts = {
    freshness = {
      description = "A member's data is older than the freshness SLA (${var.freshness_sla_hours} h since the last successful sync)."
      severity    = 2
      query       = local.kql_freshness
      measure     = "stale_hours"
      operator    = "GreaterThan"
      threshold   = var.freshness_sla_hours
      dimension   = "user_id"
      frequency   = "PT1H"
      window      = "P2D"
    }
    dead_letters = {
      description = "Messages were dead-lettered (terminal error or MaxDeliveryCountExceeded)."
      severity    = 2
      query       = local.kql_dead_letters
      measure     = "dead_lettered"
      operator    = "GreaterThan"
      threshold   = 0
      dimension   = "topic"
      frequency   = "PT5M"
      window      = "PT15M"
    }
    reauth = {
      description = "A member needs re-authorisation (WHOOP rejected the refresh token); their syncs are parked."
      severity    = 3
      query       = local.kql_reauth
      measure     = "events"
      operator    = "GreaterThan"
      threshold   = 0
      dimension   = "user_id"
      frequency   = "PT15M"
      window      = "PT15M"
    }
    quota = {
      description = "WHOOP requests in the trailing 24 h passed ${var.quota_warn_fraction * 100} % of the app's daily quota."
      severity    = 2
      query       = local.kql_quota
      measure     = "requests"
      operator    = "GreaterThanOrEqual"
      threshold   = var.whoop_daily_quota * var.quota_warn_fraction
      dimension   = null
      frequency   = "PT15M"
      window      = "P1D"
    }
    transformer_failures = {
      description = "A gold audit (dbt data tests) or a dbt build failed; readers stay on the last published gold."
      severity    = 2
      query       = local.kql_transformer_failures
      measure     = "failures"
      operator    = "GreaterThan"
      threshold   = 0
      dimension   = "kind"
      frequency   = "PT5M"
      window      = "PT15M"
    }
    heartbeat = {
      description = "An always-on service sent no wdp.service.heartbeat for 10 minutes (hung, crashed or not starting)."
      severity    = 1
      query       = local.kql_heartbeat
      measure     = "beats"
      operator    = "LessThan"
      threshold   = 1
      dimension   = "service"
      frequency   = "PT5M"
      window      = "PT10M"
    }
    restarts = {
      description = "A container app restarted or failed its probes more than twice in 30 minutes."
      severity    = 2
      query       = local.kql_restarts
      measure     = "restarts"
      operator    = "GreaterThan"
      threshold   = 2
      dimension   = "app"
      frequency   = "PT5M"
      window      = "PT30M"
    }
    success_rate = {
      description = "End-to-end pipeline success rate (completed / finished messages) fell below ${var.success_rate_slo * 100} % over ${var.success_rate_window}."
      severity    = 1
      query       = local.kql_success_rate
      measure     = "success_rate"
      operator    = "LessThan"
      threshold   = var.success_rate_slo
      dimension   = null
      frequency   = "PT15M"
      window      = var.success_rate_window
    }
  }

  # The heartbeat rule needs at least one always-on service to watch.
  enabled_log_alerts = { for k, v in local.log_alerts : k => v if k != "heartbeat" || length(var.warm_services) > 0 }
}
