variable "app_insights_id" {
  type        = string
  description = "ID of the Application Insights component (the workbook's source)."
  nullable    = false
}

variable "location" {
  type        = string
  description = "Azure region of the alert rules and the workbook."
  nullable    = false
}

variable "log_analytics_workspace_id" {
  type        = string
  description = "ID of the Log Analytics workspace that holds App Insights (AppTraces, AppRequests, AppMetrics) and Container Apps logs: the scope of every log alert."
  nullable    = false
}

variable "name" {
  type        = string
  description = "Environment name, e.g. wdp-prod; resources are named ag-<name>, alert-<name>-<rule>, budget-<name>."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lower-case letters, digits and hyphens."
  }
}

variable "resource_group_name" {
  type        = string
  description = "Resource group of the environment: holds the alerts and is the budget's scope."
  nullable    = false
}

variable "servicebus_namespace_id" {
  type        = string
  description = "ID of the Service Bus namespace (metric alerts and its metrics in the workspace)."
  nullable    = false
}

variable "topics" {
  type        = map(list(string))
  description = "Map of topic name to its subscription names; pass module.contract.topics so alerts name only declared entities."
  nullable    = false
}

variable "alert_emails" {
  type        = list(string)
  description = "E-mail addresses of the action group (on-call); every alert and the budget notify it."
  default     = []
  nullable    = false
}

variable "budget_amount" {
  type        = number
  description = "Monthly budget of the resource group in the billing currency (USD list prices in docs/costs.md)."
  default     = 120
  nullable    = false

  validation {
    condition     = var.budget_amount > 0
    error_message = "budget_amount must be positive."
  }
}

variable "budget_thresholds" {
  type        = list(number)
  description = "Percentages of budget_amount that notify the action group (actual spend; 100 also on forecast)."
  default     = [50, 80, 100]
  nullable    = false

  validation {
    condition     = length(var.budget_thresholds) > 0 && alltrue([for t in var.budget_thresholds : t > 0 && t <= 1000])
    error_message = "budget_thresholds must be percentages in (0, 1000]."
  }
}

variable "dead_letter_threshold" {
  type        = number
  description = "Dead-lettered messages on one topic above which the Service Bus metric alert fires (0: any)."
  default     = 0
  nullable    = false

  validation {
    condition     = var.dead_letter_threshold >= 0
    error_message = "dead_letter_threshold must be >= 0."
  }
}

variable "freshness_sla_hours" {
  type        = number
  description = "A member whose last successful sync (sync finished / reconciled user) is older than this breaches the freshness SLA. Reconciliation runs daily (WHOOP quota), so 26 h is one missed pass plus margin."
  default     = 26
  nullable    = false

  validation {
    condition     = var.freshness_sla_hours >= 1 && var.freshness_sla_hours <= 47
    error_message = "freshness_sla_hours must be between 1 and 47 (the query looks back two days)."
  }
}

variable "quota_warn_fraction" {
  type        = number
  description = "Fraction of the WHOOP daily quota (whoop_daily_quota) whose use in the trailing 24 h raises the quota alert."
  default     = 0.8
  nullable    = false

  validation {
    condition     = var.quota_warn_fraction > 0 && var.quota_warn_fraction <= 1
    error_message = "quota_warn_fraction must be in (0, 1]."
  }
}

variable "success_rate_min_messages" {
  type        = number
  description = "Finished messages a stage needs in the window before its success rate counts (no alert on 1 of 1)."
  default     = 10
  nullable    = false

  validation {
    condition     = var.success_rate_min_messages >= 1
    error_message = "success_rate_min_messages must be >= 1."
  }
}

variable "success_rate_slo" {
  type        = number
  description = "End-to-end pipeline success rate objective (completed / finished messages) over the rolling window."
  default     = 0.95
  nullable    = false

  validation {
    condition     = var.success_rate_slo > 0 && var.success_rate_slo < 1
    error_message = "success_rate_slo must be in (0, 1)."
  }
}

variable "success_rate_window" {
  type        = string
  description = "Rolling window of the success-rate alert (ISO 8601 duration)."
  default     = "PT1H"
  nullable    = false

  validation {
    condition     = contains(["PT30M", "PT1H", "PT6H", "PT12H", "P1D"], var.success_rate_window)
    error_message = "success_rate_window must be one of PT30M, PT1H, PT6H, PT12H, P1D."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every resource."
  default     = {}
  nullable    = false
}

variable "warm_services" {
  type        = list(string)
  description = "Services expected to run at all times (min_replicas >= 1): silence of their wdp.service.heartbeat metric alerts. Services that scale to zero are left out."
  default     = []
  nullable    = false
}

variable "whoop_daily_quota" {
  type        = number
  description = "WHOOP app-wide requests per 24 h (10,000 unless WHOOP raised it for the app)."
  default     = 10000
  nullable    = false

  validation {
    condition     = var.whoop_daily_quota >= 1
    error_message = "whoop_daily_quota must be >= 1."
  }
}
