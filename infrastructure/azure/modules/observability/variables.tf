variable "location" {
  type        = string
  description = "Azure region of the workspace and Application Insights."
  nullable    = false
}

variable "name" {
  type        = string
  description = "Log Analytics workspace name, starting with `log-`; Application Insights gets the same name with `appi-`."
  nullable    = false

  validation {
    condition     = can(regex("^log-[a-zA-Z0-9-]{1,59}[a-zA-Z0-9]$", var.name))
    error_message = "name must start with log- and be at most 63 letters, digits and hyphens."
  }
}

variable "resource_group_name" {
  type        = string
  description = "Resource group that holds the workspace."
  nullable    = false
}

variable "daily_quota_gb" {
  type        = number
  description = "Daily ingestion cap in GB (-1 for none); a runaway logger cannot run up the bill."
  default     = -1
  nullable    = false

  validation {
    condition     = var.daily_quota_gb == -1 || var.daily_quota_gb >= 0.023
    error_message = "daily_quota_gb must be -1 (no cap) or at least 0.023."
  }
}

variable "retention_in_days" {
  type        = number
  description = "Days logs and traces are retained."
  default     = 30
  nullable    = false

  validation {
    condition     = contains([30, 60, 90, 120, 180, 270, 365, 550, 730], var.retention_in_days)
    error_message = "retention_in_days must be one of 30, 60, 90, 120, 180, 270, 365, 550, 730."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to the workspace and Application Insights."
  default     = {}
  nullable    = false
}
