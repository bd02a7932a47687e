variable "key_vault_id" {
  type        = string
  description = "ID of the Key Vault the services read secrets from."
  nullable    = false
}

variable "lake_container_id" {
  type        = string
  description = "ARM ID of the lake container (scope of the blob data roles)."
  nullable    = false

  validation {
    condition     = can(regex("/blobServices/default/containers/[^/]+$", var.lake_container_id))
    error_message = "lake_container_id must be a container-level ID (.../blobServices/default/containers/<name>)."
  }
}

variable "location" {
  type        = string
  description = "Azure region of the identities."
  nullable    = false
}

variable "name_prefix" {
  type        = string
  description = "Prefix of identity names, e.g. id-wdp-dev; identities are <prefix>-<service>[-scaler]."
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9-]{1,80}$", var.name_prefix))
    error_message = "name_prefix must be letters, digits and hyphens."
  }
}

variable "resource_group_name" {
  type        = string
  description = "Resource group that holds the identities."
  nullable    = false
}

variable "services" {
  type = map(object({
    consumes    = map(string)
    publishes   = list(string)
    blob_access = string
    key_vault   = bool
    snowflake   = bool
    tokens      = bool
    ingress     = bool
  }))
  description = "Service wiring from module.contract.services: consumed subscriptions, published topics and data access per service."
  nullable    = false

  validation {
    condition     = alltrue([for svc in values(var.services) : contains(["none", "read", "write"], svc.blob_access)])
    error_message = "blob_access must be one of none, read, write."
  }
}

variable "subscription_ids" {
  type        = map(string)
  description = "Map of \"topic/subscription\" to Service Bus subscription ID (module.service_bus.subscription_ids)."
  nullable    = false
}

variable "token_container_id" {
  type        = string
  description = "ARM ID of the token container (scope of the token store's blob data role)."
  nullable    = false

  validation {
    condition     = can(regex("/blobServices/default/containers/[^/]+$", var.token_container_id))
    error_message = "token_container_id must be a container-level ID (.../blobServices/default/containers/<name>)."
  }
}

variable "topic_ids" {
  type        = map(string)
  description = "Map of topic name to Service Bus topic ID (module.service_bus.topic_ids)."
  nullable    = false
}

variable "container_registry_id" {
  type        = string
  description = "ID of the Azure Container Registry the images come from; null when images are public."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to the identities."
  default     = {}
  nullable    = false
}
