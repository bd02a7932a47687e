# Size profile "small" (~$50-120/month all in, docs/costs.md): layered over an environment,
#   terraform plan -var-file=prod.tfvars -var-file=small.tfvars -var-file=prod.local.tfvars
# It decides only size and cost; the environment (name, state key, log level) stays the
# base file's. What the larger (default prod) profile buys instead: Service Bus Premium
# (isolated capacity, private endpoints, 100 MB messages) and one warm replica per service
# (a webhook reaches a prediction in seconds, no cold starts).
servicebus_sku = "Standard"

# Every app but the extractor scales to zero between bursts: KEDA wakes the consumers on queued
# messages; the receiver cold-starts on the first HTTP request (WHOOP retries webhooks; OAuth
# callbacks are interactive and wait a few seconds). The extractor stays warm (~$12/month idle)
# because its daily reconciliation is a periodic job that only runs while a replica is up:
# without it, missed webhooks would never be repaired and freshness would depend on webhooks.
scaling = {
  receiver    = { min_replicas = 0, max_replicas = 1 }
  extractor   = { min_replicas = 1, max_replicas = 1 }
  loader      = { min_replicas = 0, max_replicas = 1 }
  transformer = { min_replicas = 0, max_replicas = 1 }
  scorer      = { min_replicas = 0, max_replicas = 1 }
}

log_daily_quota_gb    = 0.5
log_retention_in_days = 30
budget_amount         = 120

# Private endpoints need Service Bus Premium.
network_isolation = false
