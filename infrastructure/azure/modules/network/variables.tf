variable "key_vault_id" {
  type        = string
  description = "ID of the Key Vault that gets a private endpoint (subresource vault)."
  nullable    = false
}

variable "location" {
  type        = string
  description = "Azure region of the virtual network and the private endpoints."
  nullable    = false
}

variable "name" {
  type        = string
  description = "Environment name, e.g. wdp-prod; resources are named vnet-<name>, snet-<name>-*, pe-<name>-*."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lower-case letters, digits and hyphens."
  }
}

variable "resource_group_name" {
  type        = string
  description = "Resource group that holds the network."
  nullable    = false
}

variable "servicebus_namespace_id" {
  type        = string
  description = "ID of the Service Bus namespace that gets a private endpoint (Premium only; subresource namespace)."
  nullable    = false
}

variable "storage_account_id" {
  type        = string
  description = "ID of the lake account that gets private endpoints for blob and dfs."
  nullable    = false
}

variable "address_space" {
  type        = string
  description = "Address space of the virtual network (/16 to /22): a /23 for the Container Apps environment and a /27 for the private endpoints are carved from it."
  default     = "10.60.0.0/16"
  nullable    = false

  validation {
    condition     = can(cidrhost(var.address_space, 0)) && tonumber(split("/", var.address_space)[1]) <= 22
    error_message = "address_space must be a CIDR block of /22 or larger."
  }
}

variable "enabled" {
  type        = bool
  description = "Create the network and the private endpoints (network isolation); false creates nothing."
  default     = false
  nullable    = false
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every resource."
  default     = {}
  nullable    = false
}
