# What makes prod prod. Per-deployment values (subscription, suffix, registry, WHOOP and
# Snowflake accounts) are not committed: they go in prod.local.tfvars (docs/infrastructure.md).
environment = "prod"

log_daily_quota_gb          = -1
log_level                   = "INFO"
log_retention_in_days       = 90
servicebus_premium_capacity = 1
servicebus_sku              = "Premium"
storage_replication_type    = "GZRS"

# Prod keeps one warm replica per service (the transformer's dbt start-up alone is ~10 s),
# so a webhook reaches a prediction in seconds, not after cold starts. The receiver stays
# at one replica until its OAuth state is shared (see modules/container_apps/locals.tf).
scaling = {
  receiver    = { min_replicas = 1, max_replicas = 1 }
  extractor   = { min_replicas = 1 }
  loader      = { min_replicas = 1 }
  transformer = { min_replicas = 1 }
  scorer      = { min_replicas = 1 }
}
