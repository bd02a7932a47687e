variable "app_name_prefix" {
  type        = string
  description = "Prefix of container app names; apps are <prefix>-<service>, e.g. wdp-dev-loader."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.app_name_prefix))
    error_message = "app_name_prefix must be 2-20 lower-case letters, digits and hyphens, starting with a letter (app names are limited to 32 characters)."
  }
}

variable "identities" {
  type = map(object({
    client_id    = string
    principal_id = string
    resource_id  = string
  }))
  description = "Map of service name to its runtime user-assigned identity (module.rbac.identities)."
  nullable    = false
}

variable "image_repository_prefix" {
  type        = string
  description = "Registry and repository prefix of the service images; the image is <prefix><service>:<image_tag>, e.g. myacr.azurecr.io/wdp- gives myacr.azurecr.io/wdp-loader."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]*$", var.image_repository_prefix))
    error_message = "image_repository_prefix must be <registry host>/<repository prefix>, in lower case."
  }
}

variable "image_tag" {
  type        = string
  description = "Image tag to deploy (an immutable tag such as the git commit SHA, never latest)."
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag must be a valid Docker tag and not `latest`."
  }
}

variable "location" {
  type        = string
  description = "Azure region of the Container Apps environment."
  nullable    = false
}

variable "log_analytics_workspace_id" {
  type        = string
  description = "ID of the Log Analytics workspace that receives container logs."
  nullable    = false
}

variable "name" {
  type        = string
  description = "Name of the Container Apps environment."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,58}[a-z0-9]$", var.name))
    error_message = "name must be 2-60 lower-case letters, digits and hyphens."
  }
}

variable "platform" {
  type = object({
    blob_account_url    = string
    blob_container      = string
    environment         = string
    key_vault_url       = string
    lock_duration_s     = number
    log_level           = optional(string, "INFO")
    max_delivery_count  = number
    servicebus_endpoint = string
    sessions_enabled    = bool
  })
  description = "Platform settings rendered into WDP_* environment variables (endpoints of the other modules, bus semantics)."
  nullable    = false

  validation {
    condition     = contains(["dev", "test", "prod"], var.platform.environment)
    error_message = "platform.environment must be one of dev, test, prod (WDP_ENVIRONMENT)."
  }

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.platform.log_level)
    error_message = "platform.log_level must be one of DEBUG, INFO, WARNING, ERROR."
  }

  validation {
    condition     = endswith(var.platform.servicebus_endpoint, ".servicebus.windows.net")
    error_message = "platform.servicebus_endpoint must be a fully qualified namespace (<name>.servicebus.windows.net)."
  }
}

variable "resource_group_name" {
  type        = string
  description = "Resource group that holds the environment and the apps."
  nullable    = false
}

variable "scaler_identities" {
  type        = map(string)
  description = "Map of consuming service name to its KEDA scaler identity ID (module.rbac.scaler_identities)."
  nullable    = false
}

variable "secret_ids" {
  type        = map(string)
  description = "Map of Key Vault secret name to versionless secret ID (module.key_vault.secret_ids); needs appinsights-connection-string and snowflake-<service>-private-key for every Snowflake service."
  nullable    = false

  validation {
    condition     = contains(keys(var.secret_ids), "appinsights-connection-string")
    error_message = "secret_ids must contain appinsights-connection-string."
  }
}

variable "servicebus_namespace_name" {
  type        = string
  description = "Service Bus namespace name (KEDA scaler metadata)."
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
  description = "Service wiring from module.contract.services; one container app is created per entry."
  nullable    = false

  validation {
    condition     = length([for svc in values(var.services) : svc if svc.ingress]) <= 1
    error_message = "At most one service (the receiver) may have HTTP ingress."
  }
}

variable "snowflake" {
  type = object({
    account = string
  })
  description = "Snowflake account identifier. Users, roles, warehouses and schemas per service come from shared/shared/snowflake_naming.json (infrastructure/snowflake/terraform creates them)."
  nullable    = false
}

variable "whoop" {
  type = object({
    api_base_url   = optional(string, "https://api.prod.whoop.com/developer")
    client_id      = string
    oauth_base_url = optional(string, "https://api.prod.whoop.com/oauth/oauth2")
  })
  description = "WHOOP API client settings (the client secret is read from Key Vault at run time)."
  nullable    = false

  validation {
    condition     = startswith(var.whoop.api_base_url, "https://") && startswith(var.whoop.oauth_base_url, "https://")
    error_message = "WHOOP URLs must use https."
  }
}

variable "container_registry_server" {
  type        = string
  description = "Login server of the private registry the images come from (pulled with the app's identity); null for public images."
  default     = null
}

variable "extra_env" {
  type        = map(map(string))
  description = "Extra non-secret environment variables per service (service-specific WDP_<SERVICE>_* settings such as public URLs)."
  default     = {}
  nullable    = false

  validation {
    condition = alltrue(flatten([
      for svc, envs in var.extra_env : [
        for k in keys(envs) : can(regex("^[A-Z][A-Z0-9_]*$", k)) && !can(regex("(SECRET|PASSWORD|PASSPHRASE|PRIVATE_KEY$|CONNECTION_STRING|TOKEN$)", k))
      ]
    ]))
    error_message = "extra_env keys must be upper-case env names and must not carry secrets; put secrets in Key Vault."
  }
}

variable "extra_secret_env" {
  type        = map(map(string))
  description = "Extra secret environment variables per service: env name => Key Vault secret name (e.g. receiver WDP_RECEIVER_API_KEYS => receiver-api-keys)."
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue(flatten([for svc, envs in var.extra_secret_env : [for k, v in envs : can(regex("^[A-Z][A-Z0-9_]*$", k)) && contains(keys(var.secret_ids), v)]]))
    error_message = "extra_secret_env keys must be upper-case env names and every value a secret name present in secret_ids."
  }
}

variable "health_path" {
  type        = string
  description = "HTTP path of the receiver's health endpoint (liveness and readiness probes)."
  default     = "/healthz"
  nullable    = false

  validation {
    condition     = startswith(var.health_path, "/")
    error_message = "health_path must start with /."
  }
}

variable "image_digests" {
  type        = map(string)
  description = "Map of service name to the image digest (sha256:...) CI pushed; a listed service runs <prefix><service>@<digest> instead of the tag."
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for d in values(var.image_digests) : can(regex("^sha256:[0-9a-f]{64}$", d))])
    error_message = "image_digests values must be sha256:<64 hex digits>."
  }
}

variable "infrastructure_subnet_id" {
  type        = string
  description = "Subnet (an undelegated /23) of a VNet-integrated environment for network isolation; null for the default Consumption environment without a VNet."
  default     = null
}

variable "ingress_target_port" {
  type        = number
  description = "Port the receiver listens on inside its container (WDP_RECEIVER_PORT)."
  default     = 8080
  nullable    = false

  validation {
    condition     = var.ingress_target_port >= 1 && var.ingress_target_port <= 65535
    error_message = "ingress_target_port must be a TCP port (1-65535)."
  }
}

variable "scaling" {
  type = map(object({
    concurrent_requests  = optional(number)
    max_replicas         = optional(number)
    messages_per_replica = optional(number)
    min_replicas         = optional(number)
  }))
  description = "Per-service overrides of the scaling defaults (min/max replicas, KEDA messageCount, HTTP concurrency)."
  default     = {}
  nullable    = false

  validation {
    condition = alltrue([
      for s in values(var.scaling) : coalesce(s.min_replicas, 0) >= 0 && coalesce(s.max_replicas, 1) >= 1 && coalesce(s.min_replicas, 0) <= coalesce(s.max_replicas, 1000)
    ])
    error_message = "min_replicas must be >= 0, max_replicas >= 1, and min_replicas <= max_replicas."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to the environment and every app."
  default     = {}
  nullable    = false
}
