locals {
  # Mirrors shared.contracts.topics.SUBSCRIPTIONS exactly (checked by
  # tests/unit/infra/test_infra_terraform.py). Key: topic; value: its subscriptions.
  topics = {
    "whoop.webhook-received"  = ["extractor"]
    "whoop.sync-requested"    = ["extractor"]
    "whoop.user-connected"    = ["extractor"]
    "whoop.user-disconnected" = ["extractor", "loader"]
    "storage.blob-events"     = ["loader"]
    "warehouse.bronze-loaded" = ["transformer"]
    "warehouse.gold-updated"  = ["scorer"]
    "ml.predictions-written"  = ["observer"]
  }

  # One entry per deployed service (the `observer` subscription is read by operators with
  # `wdp dlq` / dashboards, not by a container app).
  #   consumes     topic => subscription the service receives from (KEDA scales on these)
  #   publishes    topics the service sends to (Azure Service Bus Data Sender, topic scope)
  #   blob_access  none | read | write  on the `lake` container
  #   key_vault    reads secrets at run time (WHOOP client secret, token encryption key)
  #   snowflake    connects to the warehouse (gets the WDP_SNOWFLAKE_* settings and key)
  #   tokens       reads/writes the encrypted OAuth token container
  #   ingress      HTTP ingress (only the receiver: OAuth callback, webhooks, REST sync API)
  services = {
    receiver = {
      consumes    = {}
      publishes   = ["whoop.webhook-received", "whoop.sync-requested", "whoop.user-connected", "whoop.user-disconnected"]
      blob_access = "none"
      key_vault   = true
      snowflake   = false
      tokens      = true
      ingress     = true
    }
    extractor = {
      consumes = {
        "whoop.webhook-received"  = "extractor"
        "whoop.sync-requested"    = "extractor"
        "whoop.user-connected"    = "extractor"
        "whoop.user-disconnected" = "extractor"
      }
      # UserConnected starts the initial backfill as a SyncRequested message, and a
      # recovery.updated webhook whose recovery WHOOP has not scored yet is re-published to
      # whoop.webhook-received as a scheduled retry (extractor.handlers).
      publishes   = ["whoop.webhook-received", "whoop.sync-requested"]
      blob_access = "write"
      key_vault   = true
      snowflake   = false
      tokens      = true
      ingress     = false
    }
    loader = {
      # whoop.user-disconnected: a purge deletes the member's bronze rows, then announces it
      # on warehouse.bronze-loaded so the transformer purges silver and gold after bronze.
      consumes = {
        "storage.blob-events"     = "loader"
        "whoop.user-disconnected" = "loader"
      }
      publishes   = ["warehouse.bronze-loaded"]
      blob_access = "read"
      key_vault   = false
      snowflake   = true
      tokens      = false
      ingress     = false
    }
    transformer = {
      consumes    = { "warehouse.bronze-loaded" = "transformer" }
      publishes   = ["warehouse.gold-updated"]
      blob_access = "none"
      key_vault   = false
      snowflake   = true
      tokens      = false
      ingress     = false
    }
    scorer = {
      consumes  = { "warehouse.gold-updated" = "scorer" }
      publishes = ["ml.predictions-written"]
      # Model artefacts (sklearn pipelines) are read from the lake through the BlobStore port.
      blob_access = "read"
      key_vault   = false
      snowflake   = true
      tokens      = false
      ingress     = false
    }
  }

  # The topic Event Grid delivers Microsoft.Storage.BlobCreated events to.
  blob_events_topic = "storage.blob-events"
}
