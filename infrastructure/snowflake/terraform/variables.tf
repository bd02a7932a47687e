variable "environment" {
  type        = string
  description = "dev | test | prod; tags every object for cost attribution."
  nullable    = false

  validation {
    condition     = contains(["dev", "test", "prod"], var.environment)
    error_message = "environment must be dev, test or prod."
  }
}

variable "service_public_keys" {
  type        = map(string)
  description = "RSA public key body (no PEM header/footer) of each service user: loader, transformer, scorer. The private keys live in Key Vault (snowflake-<service>-private-key)."
  nullable    = false

  validation {
    condition     = toset(keys(var.service_public_keys)) == toset(keys(local.n.services))
    error_message = "service_public_keys needs exactly one key per Snowflake service (shared/snowflake_naming.json services)."
  }
}

variable "azure_tenant_id" {
  type        = string
  description = "Entra tenant of the lake storage account (storage integration)."
  nullable    = false
}

variable "lake_container_url" {
  type        = string
  description = "azure://<account>.blob.core.windows.net/<container>/ of the lake; the external stage and the storage integration are limited to its bronze/whoop/ prefix."
  nullable    = false

  validation {
    condition     = can(regex("^azure://[a-z0-9]+\\.blob\\.core\\.windows\\.net/[a-z0-9-]+/$", var.lake_container_url))
    error_message = "lake_container_url must look like azure://<account>.blob.core.windows.net/<container>/."
  }
}

variable "monthly_credit_quota" {
  type        = map(number)
  description = "Monthly credit quota of each warehouse's resource monitor (keys: shared/snowflake_naming.json warehouses)."
  default = {
    loader      = 30
    transformer = 60
    scorer      = 20
    bi_reader   = 30
  }
  nullable = false
}

variable "monitor_notify_users" {
  type        = list(string)
  description = "Snowflake users (with verified e-mail) notified at the resource monitors' notify thresholds."
  default     = []
  nullable    = false
}

variable "coach_share_accounts" {
  type        = list(string)
  description = "Consumer accounts (<org>.<account>) of coaches the BI views are shared with; empty = no share."
  default     = []
  nullable    = false
}
