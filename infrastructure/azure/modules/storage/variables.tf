variable "blob_events_topic_id" {
  type        = string
  description = "ID of the Service Bus topic `storage.blob-events` that receives BlobCreated events."
  nullable    = false

  validation {
    condition     = can(regex("/topics/storage\\.blob-events$", var.blob_events_topic_id))
    error_message = "blob_events_topic_id must be the ID of the storage.blob-events topic."
  }
}

variable "location" {
  type        = string
  description = "Azure region of the storage account."
  nullable    = false
}

variable "log_analytics_workspace_id" {
  type        = string
  description = "Log Analytics workspace that receives blob access logs (who wrote which bronze file)."
  nullable    = false
}

variable "name" {
  type        = string
  description = "Globally unique storage account name."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]{3,24}$", var.name))
    error_message = "name must be 3-24 lower-case letters and digits."
  }
}

variable "resource_group_name" {
  type        = string
  description = "Resource group that holds the account and its Event Grid system topic."
  nullable    = false
}

variable "container_name" {
  type        = string
  description = "Lake container; must equal WDP_BLOB_CONTAINER."
  default     = "lake"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$", var.container_name))
    error_message = "container_name must be 3-63 lower-case letters, digits and single hyphens."
  }
}

variable "event_session_id" {
  type        = string
  description = "Service Bus session id stamped on delivered BlobCreated events when the bus uses sessions (ServiceBusBus's shared session, \"_shared\"); null when sessions are off."
  default     = null
}

variable "public_network_access_enabled" {
  type        = bool
  description = "Whether the account accepts traffic from public networks (Container Apps without VNet integration need it)."
  default     = true
  nullable    = false
}

variable "replication_type" {
  type        = string
  description = "Account replication: GZRS (default, bronze is the system of record) for prod; dev may choose LRS."
  default     = "GZRS"
  nullable    = false

  validation {
    condition     = contains(["LRS", "ZRS", "GRS", "GZRS", "RAGRS", "RAGZRS"], var.replication_type)
    error_message = "replication_type must be one of LRS, ZRS, GRS, GZRS, RAGRS, RAGZRS."
  }
}

variable "soft_delete_retention_days" {
  type        = number
  description = "Days deleted blobs and containers stay recoverable."
  default     = 14
  nullable    = false

  validation {
    condition     = var.soft_delete_retention_days >= 1 && var.soft_delete_retention_days <= 365
    error_message = "soft_delete_retention_days must be between 1 and 365."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to the account and its Event Grid system topic."
  default     = {}
  nullable    = false
}

variable "token_container_name" {
  type        = string
  description = "Private container of the encrypted OAuth tokens; must equal AzureBlobTokenStore's container."
  default     = "wdp-tokens"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$", var.token_container_name))
    error_message = "token_container_name must be 3-63 lower-case letters, digits and single hyphens."
  }
}
