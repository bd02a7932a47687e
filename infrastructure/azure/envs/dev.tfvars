# What makes dev dev. Per-deployment values (subscription, suffix, registry, WHOOP and
# Snowflake accounts) are not committed: they go in dev.local.tfvars (docs/infrastructure.md).
environment = "dev"

log_daily_quota_gb       = 2
log_level                = "DEBUG"
log_retention_in_days    = 30
servicebus_sku           = "Standard"
storage_replication_type = "GRS"

# Dev idles at zero: the receiver cold-starts on the first webhook (WHOOP retries).
scaling = {
  receiver = { min_replicas = 0, max_replicas = 1 }
}
