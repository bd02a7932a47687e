provider "azurerm" {
  subscription_id     = var.subscription_id
  storage_use_azuread = true

  features {
    key_vault {
      purge_soft_delete_on_destroy = false
    }
  }
}

module "contract" {
  source = "../modules/contract"
}

module "observability" {
  source = "../modules/observability"

  name                = "log-${local.name}"
  location            = var.location
  resource_group_name = var.resource_group_name
  retention_in_days   = var.log_retention_in_days
  daily_quota_gb      = var.log_daily_quota_gb
  tags                = local.tags
}

module "service_bus" {
  source = "../modules/service_bus"

  name                = "sb-${local.unique_name}"
  location            = var.location
  resource_group_name = var.resource_group_name
  topics              = module.contract.topics
  sessions_enabled    = var.sessions_enabled
  sku                 = var.servicebus_sku
  premium_capacity    = var.servicebus_premium_capacity
  lock_duration       = "PT1M"
  max_delivery_count  = 10

  public_network_access_enabled = var.network_isolation ? false : true
  tags                          = local.tags
}

module "storage" {
  source = "../modules/storage"

  name                       = "st${local.unique_name}"
  location                   = var.location
  resource_group_name        = var.resource_group_name
  blob_events_topic_id       = module.service_bus.topic_ids[module.contract.blob_events_topic]
  log_analytics_workspace_id = module.observability.resource_id
  event_session_id           = var.sessions_enabled ? "_shared" : null
  replication_type           = var.storage_replication_type

  public_network_access_enabled = var.network_isolation ? false : true
  tags                          = local.tags
}

module "key_vault" {
  source = "../modules/key_vault"

  name                = "kv-${local.unique_name}"
  location            = var.location
  resource_group_name = var.resource_group_name
  external_secret_names = concat(
    ["token-encryption-key", "whoop-client-secret"],
    [for name, svc in module.contract.services : "snowflake-${name}-private-key" if svc.snowflake],
    flatten([for svc, envs in var.extra_secret_env : values(envs)]),
  )
  platform_secrets = {
    "appinsights-connection-string" = module.observability.app_insights_connection_string
  }
  secrets_officer_principal_ids = var.secrets_officer_principal_ids
  public_network_access_enabled = var.network_isolation ? false : true
  tags                          = local.tags
}

module "rbac" {
  source = "../modules/rbac"

  name_prefix           = "id-${local.name}"
  location              = var.location
  resource_group_name   = var.resource_group_name
  services              = module.contract.services
  topic_ids             = module.service_bus.topic_ids
  subscription_ids      = module.service_bus.subscription_ids
  lake_container_id     = module.storage.lake_container_id
  token_container_id    = module.storage.token_container_id
  key_vault_id          = module.key_vault.resource_id
  container_registry_id = var.container_registry_id
  tags                  = local.tags
}

module "container_apps" {
  source = "../modules/container_apps"

  name                       = "cae-${local.name}"
  app_name_prefix            = local.name
  location                   = var.location
  resource_group_name        = var.resource_group_name
  log_analytics_workspace_id = module.observability.resource_id
  infrastructure_subnet_id   = module.network.container_apps_subnet_id
  services                   = module.contract.services
  identities                 = module.rbac.identities
  scaler_identities          = module.rbac.scaler_identities
  secret_ids                 = module.key_vault.secret_ids
  servicebus_namespace_name  = module.service_bus.name
  container_registry_server  = var.container_registry_server
  image_repository_prefix    = var.image_repository_prefix
  image_tag                  = var.image_tag
  image_digests              = var.image_digests
  whoop                      = var.whoop
  snowflake                  = var.snowflake
  extra_env                  = var.extra_env
  extra_secret_env           = var.extra_secret_env
  platform = {
    environment         = var.environment
    servicebus_endpoint = module.service_bus.endpoint
    sessions_enabled    = var.sessions_enabled
    lock_duration_s     = 60
    max_delivery_count  = 10
    blob_account_url    = module.storage.blob_endpoint
    blob_container      = module.storage.container_name
    key_vault_url       = module.key_vault.vault_uri
    log_level           = var.log_level
  }
  scaling = var.scaling
  tags    = local.tags

  # Key Vault references and scale rules are resolved when the app is created, so every role
  # assignment (and, with network isolation, every private endpoint) must exist first.
  depends_on = [module.rbac, module.key_vault, module.network]
}

module "network" {
  source = "../modules/network"

  enabled                 = var.network_isolation
  name                    = local.name
  location                = var.location
  resource_group_name     = var.resource_group_name
  address_space           = var.network_address_space
  servicebus_namespace_id = module.service_bus.resource_id
  storage_account_id      = module.storage.resource_id
  key_vault_id            = module.key_vault.resource_id
  tags                    = local.tags
}

module "monitoring" {
  source = "../modules/monitoring"

  name                       = local.name
  location                   = var.location
  resource_group_name        = var.resource_group_name
  log_analytics_workspace_id = module.observability.resource_id
  app_insights_id            = module.observability.app_insights_id
  servicebus_namespace_id    = module.service_bus.resource_id
  topics                     = module.contract.topics
  alert_emails               = var.alert_emails
  budget_amount              = var.budget_amount
  # The heartbeat alert watches the bus consumers (ServiceRunner emits wdp.service.heartbeat)
  # that never scale to zero in this environment; the receiver has HTTP probes instead.
  warm_services = sort([
    for name, s in module.container_apps.scaling : name
    if s.min_replicas >= 1 && length(module.contract.services[name].consumes) > 0
  ])
  tags = local.tags
}
