variable "environment" {
  type        = string
  description = "Deployment stage (set by <env>.tfvars); a name suffix, the `env` tag and WDP_ENVIRONMENT. Its state lives under key wdp/<env>.tfstate (<env>.backend.hcl)."
  nullable    = false

  validation {
    condition     = contains(["dev", "test", "prod"], var.environment)
    error_message = "environment must be one of: dev, test, prod."
  }
}

variable "image_repository_prefix" {
  type        = string
  description = "Registry and repository prefix of the service images, e.g. myacr.azurecr.io/wdp- (image = <prefix><service>:<tag>)."
  nullable    = false
}

variable "image_tag" {
  type        = string
  description = "Immutable image tag to deploy (the git commit SHA built by CI)."
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag must be a valid Docker tag and not `latest`."
  }
}

variable "log_daily_quota_gb" {
  type        = number
  description = "Log Analytics daily ingestion cap in GB, -1 for none (set per environment in <env>.tfvars); validated by modules/observability."
  nullable    = false
}

variable "log_level" {
  type        = string
  description = "WDP_LOG_LEVEL of every service (set per environment in <env>.tfvars); validated by modules/container_apps."
  nullable    = false
}

variable "log_retention_in_days" {
  type        = number
  description = "Days Log Analytics keeps logs and traces (set per environment in <env>.tfvars); validated by modules/observability."
  nullable    = false
}

variable "resource_group_name" {
  type        = string
  description = "Existing resource group of this environment (created with the state storage, see docs/infrastructure.md)."
  nullable    = false
}

variable "servicebus_sku" {
  type        = string
  description = "Service Bus namespace tier (set per environment in <env>.tfvars); validated by modules/service_bus."
  nullable    = false
}

variable "snowflake" {
  type = object({
    account = string
  })
  description = "Snowflake account identifier. Users, roles, warehouses and schemas per service come from shared/shared/snowflake_naming.json (infrastructure/snowflake/terraform creates them)."
  nullable    = false
}

variable "storage_replication_type" {
  type        = string
  description = "Replication of the lake account (set per environment in <env>.tfvars); bronze is the system of record; validated by modules/storage."
  nullable    = false
}

variable "subscription_id" {
  type        = string
  description = "Azure subscription ID to deploy into."
  nullable    = false

  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.subscription_id))
    error_message = "subscription_id must be a GUID."
  }
}

variable "unique_suffix" {
  type        = string
  description = "Short suffix that makes the storage account, Key Vault and Service Bus names globally unique."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]{3,6}$", var.unique_suffix))
    error_message = "unique_suffix must be 3-6 lower-case letters and digits."
  }
}

variable "whoop" {
  type = object({
    api_base_url   = optional(string, "https://api.prod.whoop.com/developer")
    client_id      = string
    oauth_base_url = optional(string, "https://api.prod.whoop.com/oauth/oauth2")
  })
  description = "WHOOP developer app client ID and API URLs (the client secret goes to Key Vault, never here)."
  nullable    = false
}

variable "alert_emails" {
  type        = list(string)
  description = "E-mail addresses of the on-call action group: every alert and the budget notify it."
  default     = []
  nullable    = false
}

variable "budget_amount" {
  type        = number
  description = "Monthly Azure budget of the resource group (USD); alerts at 50/80/100 % actual and 100 % forecast. Validated by modules/monitoring."
  default     = 120
  nullable    = false
}

variable "container_registry_id" {
  type        = string
  description = "ID of the Azure Container Registry holding the images (AcrPull for each service identity); null for public images."
  default     = null
}

variable "container_registry_server" {
  type        = string
  description = "Login server of that registry, e.g. myacr.azurecr.io; null for public images."
  default     = null
}

variable "extra_env" {
  type        = map(map(string))
  description = "Extra non-secret environment variables per service (service-specific WDP_<SERVICE>_* settings)."
  default     = {}
  nullable    = false
}

variable "extra_secret_env" {
  type        = map(map(string))
  description = "Extra secret environment variables per service: env name => Key Vault secret name (the secret is set out of band)."
  default     = {}
  nullable    = false
}

variable "image_digests" {
  type        = map(string)
  description = "Map of service name to the image digest CI pushed (deploy.yml); those services deploy by digest. Validated by modules/container_apps."
  default     = {}
  nullable    = false
}

variable "location" {
  type        = string
  description = "Azure region of every resource."
  default     = "westeurope"
  nullable    = false
}

variable "name_prefix" {
  type        = string
  description = "Short project prefix used in every resource name."
  default     = "wdp"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,5}$", var.name_prefix))
    error_message = "name_prefix must be 2-6 lower-case letters and digits, starting with a letter."
  }
}

variable "network_address_space" {
  type        = string
  description = "Address space of the virtual network when network_isolation is on; validated by modules/network."
  default     = "10.60.0.0/16"
  nullable    = false
}

variable "network_isolation" {
  type        = bool
  description = "Private endpoints for Service Bus, the lake and Key Vault, a VNet-integrated Container Apps environment, and public network access off on all three. Needs servicebus_sku = Premium."
  default     = false
  nullable    = false

  validation {
    condition     = !var.network_isolation || var.servicebus_sku == "Premium"
    error_message = "network_isolation needs servicebus_sku = \"Premium\" (Service Bus private endpoints are Premium only)."
  }
}

variable "scaling" {
  type = map(object({
    concurrent_requests  = optional(number)
    max_replicas         = optional(number)
    messages_per_replica = optional(number)
    min_replicas         = optional(number)
  }))
  description = "Per-service overrides (keys: contract service names) of the container_apps scaling defaults; set per environment in <env>.tfvars."
  default     = {}
  nullable    = false
}

variable "secrets_officer_principal_ids" {
  type        = list(string)
  description = "Object IDs of the people or pipelines allowed to set secret values in Key Vault."
  default     = []
  nullable    = false
}

variable "servicebus_premium_capacity" {
  type        = number
  description = "Service Bus messaging units when servicebus_sku is Premium (ignored for Standard); validated by modules/service_bus."
  default     = 1
  nullable    = false
}

variable "sessions_enabled" {
  type        = bool
  description = "Use Service Bus sessions for per-user ordering on the whoop.* topics (sets WDP_SERVICEBUS_USE_SESSIONS too)."
  default     = false
  nullable    = false
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource (env, project and managed_by are always set)."
  default     = {}
  nullable    = false
}
