locals {
  secrets_mount_path = "/mnt/secrets"

  # Scaling defaults, overridable per service through var.scaling.
  default_scaling = {
    min_replicas         = 0
    max_replicas         = 3
    messages_per_replica = 20
    concurrent_requests  = 50
  }
  service_scaling = {
    # One receiver replica: its OAuth state and webhook dedupe records live in a SQLite file on
    # the replica's disk (receiver.adapters.state), so a callback landing on another replica
    # would fail. Raise max_replicas once that state moves to a shared store.
    receiver = { min_replicas = 1, max_replicas = 1 }
    # WHOOP's rate limit is per client app, not per replica: more replicas only queue on it.
    extractor = { max_replicas = 2, messages_per_replica = 10 }
    # The loader micro-batches; a deep backlog is worth a second and third replica.
    loader = { messages_per_replica = 50 }
    # dbt builds of one project must not overlap on the warehouse: one replica, which
    # coalesces a backlog of bronze-loaded events into one build.
    transformer = { max_replicas = 1, messages_per_replica = 1 }
    scorer      = { max_replicas = 2, messages_per_replica = 10 }
  }
  scaling = {
    for name in keys(var.services) : name => merge(
      local.default_scaling,
      try(local.service_scaling[name], {}),
      { for k, v in try(var.scaling[name], {}) : k => v if v != null },
    )
  }

  # dbt and sklearn need more memory than the I/O-bound services.
  default_resources = { cpu = 0.5, memory = "1Gi" }
  service_resources = {
    transformer = { cpu = 1.0, memory = "2Gi" }
    scorer      = { cpu = 1.0, memory = "2Gi" }
  }
  resources = {
    for name in keys(var.services) : name => try(local.service_resources[name], local.default_resources)
  }

  # Settings every service reads (names are shared.settings.PlatformSettings fields, WDP_ prefix).
  common_env = {
    WDP_PROFILE                              = "azure"
    WDP_ENVIRONMENT                          = var.platform.environment
    WDP_LOG_LEVEL                            = var.platform.log_level
    WDP_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE = var.platform.servicebus_endpoint
    WDP_SERVICEBUS_USE_SESSIONS              = tostring(var.platform.sessions_enabled)
    WDP_BUS_LOCK_DURATION_S                  = tostring(var.platform.lock_duration_s)
    WDP_BUS_MAX_DELIVERY_COUNT               = tostring(var.platform.max_delivery_count)
    WDP_BLOB_ACCOUNT_URL                     = var.platform.blob_account_url
    WDP_BLOB_CONTAINER                       = var.platform.blob_container
    WDP_BLOB_EMIT_EVENTS                     = "false" # Event Grid publishes BlobCreated in Azure
    WDP_BLOB_EVENT_SCHEMA                    = "eventgrid"
    WDP_KEY_VAULT_URL                        = var.platform.key_vault_url
    WDP_WAREHOUSE                            = "snowflake"
    WDP_OTEL_EXPORTER                        = "azure"
  }

  # Services that talk to WHOOP (OAuth, API) and the token store.
  whoop_env = {
    WDP_WHOOP_API_BASE_URL        = var.whoop.api_base_url
    WDP_WHOOP_OAUTH_BASE_URL      = var.whoop.oauth_base_url
    WDP_WHOOP_CLIENT_ID           = var.whoop.client_id
    WDP_WHOOP_CLIENT_SECRET_NAME  = "whoop-client-secret"
    WDP_TOKEN_ENCRYPTION_KEY_NAME = "token-encryption-key"
  }

  # Snowflake names come from the one naming source the services, dbt, Power BI and
  # infrastructure/snowflake/terraform use (checked by tests/unit/infra/test_snowflake_naming.py):
  # each service its own user, role, warehouse and session schema.
  snowflake_naming = jsondecode(file("${path.module}/../../../../shared/shared/snowflake_naming.json"))
  snowflake_env = {
    WDP_SNOWFLAKE_ACCOUNT          = var.snowflake.account
    WDP_SNOWFLAKE_DATABASE         = local.snowflake_naming.database
    WDP_SNOWFLAKE_PRIVATE_KEY_PATH = "${local.secrets_mount_path}/snowflake-private-key"
  }

  # Service-specific settings (WDP_<SERVICE>_* fields of each service's settings class).
  service_env = {
    receiver = {
      # Listen on all interfaces inside the container; ingress terminates TLS in front.
      WDP_RECEIVER_HOST        = "0.0.0.0"
      WDP_RECEIVER_PORT        = tostring(var.ingress_target_port)
      WDP_RECEIVER_ENVIRONMENT = var.platform.environment
      # External ingress FQDN is <app name>.<environment default domain>; the OAuth redirect
      # registered at WHOOP is <this>/auth/whoop/callback.
      WDP_RECEIVER_PUBLIC_BASE_URL = "https://${var.app_name_prefix}-receiver.${azurerm_container_app_environment.this.default_domain}"
    }
    transformer = {
      WDP_TRANSFORMER_DBT_TARGET      = "snowflake"
      WDP_TRANSFORMER_DBT_PROJECT_DIR = "/app/dbt_project"
    }
  }

  app_env = {
    for name, svc in var.services : name => merge(
      local.common_env,
      { AZURE_CLIENT_ID = var.identities[name].client_id },
      svc.key_vault ? local.whoop_env : {},
      svc.snowflake ? merge(local.snowflake_env, {
        WDP_SNOWFLAKE_USER      = local.snowflake_naming.services[name].user
        WDP_SNOWFLAKE_ROLE      = local.snowflake_naming.roles[local.snowflake_naming.services[name].role]
        WDP_SNOWFLAKE_WAREHOUSE = local.snowflake_naming.warehouses[local.snowflake_naming.services[name].warehouse]
        WDP_SNOWFLAKE_SCHEMA    = local.snowflake_naming.schemas[local.snowflake_naming.services[name].schema]
      }) : {},
      try(local.service_env[name], {}),
      lookup(var.extra_env, name, {}),
    )
  }

  # Container App secrets: Key Vault references only (name in the app => versionless secret ID).
  app_secrets = {
    for name, svc in var.services : name => merge(
      { "appinsights-connection-string" = var.secret_ids["appinsights-connection-string"] },
      svc.snowflake ? { "snowflake-private-key" = var.secret_ids["snowflake-${name}-private-key"] } : {},
      { for env, secret in lookup(var.extra_secret_env, name, {}) : secret => var.secret_ids[secret] },
    )
  }

  # Environment variables filled from those secrets (env name => secret name).
  app_secret_env = {
    for name, svc in var.services : name => merge(
      { APPLICATIONINSIGHTS_CONNECTION_STRING = "appinsights-connection-string" },
      lookup(var.extra_secret_env, name, {}),
    )
  }
}
