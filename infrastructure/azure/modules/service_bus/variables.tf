variable "location" {
  type        = string
  description = "Azure region of the namespace."
  nullable    = false
}

variable "name" {
  type        = string
  description = "Globally unique Service Bus namespace name."
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{4,48}[a-zA-Z0-9]$", var.name))
    error_message = "name must be 6-50 characters of letters, digits and hyphens, start with a letter and end with a letter or digit."
  }
}

variable "resource_group_name" {
  type        = string
  description = "Resource group that holds the namespace."
  nullable    = false
}

variable "topics" {
  type        = map(list(string))
  description = "Map of topic name to its subscription names; pass module.contract.topics so the topology equals shared.contracts."
  nullable    = false

  validation {
    condition     = length(var.topics) > 0 && alltrue([for subs in values(var.topics) : length(subs) > 0 && length(subs) == length(distinct(subs))])
    error_message = "topics must be non-empty and every topic needs at least one subscription, without duplicates."
  }
}

variable "duplicate_detection_window" {
  type        = string
  description = "ISO 8601 duration during which a repeated message_id is discarded by the broker."
  default     = "PT10M"
  nullable    = false

  validation {
    condition     = can(regex("^PT([0-9]+[HMS])+$", var.duplicate_detection_window))
    error_message = "duplicate_detection_window must be an ISO 8601 time duration such as PT10M."
  }
}

variable "lock_duration" {
  type        = string
  description = "Peek-lock duration of every subscription (ISO 8601, at most PT5M); keep WDP_BUS_LOCK_DURATION_S equal to it. Long handlers renew the lock."
  default     = "PT1M"
  nullable    = false

  validation {
    condition     = can(regex("^PT([1-5]M|[1-9][0-9]?S|[1-4]M[1-5]?[0-9]S)$", var.lock_duration))
    error_message = "lock_duration must be an ISO 8601 duration no longer than PT5M, such as PT30S or PT1M."
  }
}

variable "max_delivery_count" {
  type        = number
  description = "Deliveries before the broker dead-letters a message with MaxDeliveryCountExceeded; keep WDP_BUS_MAX_DELIVERY_COUNT equal to it."
  default     = 10
  nullable    = false

  validation {
    condition     = var.max_delivery_count >= 1 && var.max_delivery_count <= 2000
    error_message = "max_delivery_count must be between 1 and 2000."
  }
}

variable "max_topic_size_in_megabytes" {
  type        = number
  description = "Maximum size of each topic in megabytes."
  default     = 1024
  nullable    = false

  validation {
    condition     = contains([1024, 2048, 3072, 4096, 5120, 10240, 20480, 40960, 81920], var.max_topic_size_in_megabytes)
    error_message = "max_topic_size_in_megabytes must be one of 1024, 2048, 3072, 4096, 5120 (Standard) or 10240-81920 (Premium)."
  }
}

variable "message_ttl" {
  type        = string
  description = "Default time to live of messages (ISO 8601); expired messages go to the dead-letter queue."
  default     = "P14D"
  nullable    = false

  validation {
    condition     = can(regex("^P([0-9]+D)?(T([0-9]+[HMS])+)?$", var.message_ttl)) && var.message_ttl != "P"
    error_message = "message_ttl must be an ISO 8601 duration such as P14D."
  }
}

variable "premium_capacity" {
  type        = number
  description = "Messaging units when sku is Premium (ignored for Standard)."
  default     = 1
  nullable    = false

  validation {
    condition     = contains([1, 2, 4, 8, 16], var.premium_capacity)
    error_message = "premium_capacity must be one of 1, 2, 4, 8, 16."
  }
}

variable "public_network_access_enabled" {
  type        = bool
  description = "Whether the namespace accepts traffic from public networks (Container Apps without VNet integration need it)."
  default     = true
  nullable    = false
}

variable "sessions_enabled" {
  type        = bool
  description = "Require sessions on every subscription for per-user ordering; WDP_SERVICEBUS_USE_SESSIONS must have the same value."
  default     = false
  nullable    = false
}

variable "sku" {
  type        = string
  description = "Namespace tier: Standard (topics, duplicate detection) or Premium (isolation, zone redundancy, larger messages)."
  default     = "Standard"
  nullable    = false

  validation {
    condition     = contains(["Standard", "Premium"], var.sku)
    error_message = "sku must be Standard or Premium; Basic has no topics."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to the namespace."
  default     = {}
  nullable    = false
}
