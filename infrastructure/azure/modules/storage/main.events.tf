# BlobCreated for bronze files -> Service Bus topic `storage.blob-events` (Event Grid schema),
# which the loader's subscription consumes. This replaces the LocalBlobStore's own event
# publishing, so the services run with WDP_BLOB_EMIT_EVENTS=false in Azure.
resource "azurerm_eventgrid_system_topic" "storage" {
  name                = "${var.name}-events"
  location            = var.location
  resource_group_name = var.resource_group_name
  source_resource_id  = azurerm_storage_account.this.id
  topic_type          = "Microsoft.Storage.StorageAccounts"
  tags                = var.tags

  identity {
    type = "SystemAssigned"
  }
}

# Event Grid delivers with its own identity: send rights on the one topic it feeds, nothing else.
resource "azurerm_role_assignment" "events_sender" {
  scope                = var.blob_events_topic_id
  role_definition_name = "Azure Service Bus Data Sender"
  principal_id         = azurerm_eventgrid_system_topic.storage.identity[0].principal_id
  principal_type       = "ServicePrincipal"
  description          = "Event Grid system topic delivers BlobCreated events to storage.blob-events."
}

resource "azurerm_role_assignment" "events_dead_letter_writer" {
  scope                = local.event_dead_letters_container_id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_eventgrid_system_topic.storage.identity[0].principal_id
  principal_type       = "ServicePrincipal"
  description          = "Event Grid writes undeliverable events to the eventgrid-deadletter container."
}

resource "azurerm_eventgrid_system_topic_event_subscription" "bronze_created" {
  name                          = "bronze-blob-created"
  system_topic                  = azurerm_eventgrid_system_topic.storage.name
  resource_group_name           = var.resource_group_name
  service_bus_topic_endpoint_id = var.blob_events_topic_id
  event_delivery_schema         = "EventGridSchema"
  included_event_types          = ["Microsoft.Storage.BlobCreated"]

  subject_filter {
    subject_begins_with = local.bronze_subject_prefix
  }

  # ADLS Gen2 raises BlobCreated twice for one file written through the DFS API (CreateFile
  # with length 0, then FlushWithClose). Only completed writes are interesting to the loader.
  advanced_filter {
    string_in {
      key    = "data.api"
      values = ["PutBlob", "PutBlockList", "FlushWithClose", "CopyBlob"]
    }
  }

  delivery_identity {
    type = "SystemAssigned"
  }

  # Session-enabled subscriptions refuse messages without a session id; blob events are not
  # per-user, so they share the session ServiceBusBus uses for user-less messages.
  dynamic "delivery_property" {
    for_each = var.event_session_id == null ? [] : [var.event_session_id]
    content {
      header_name = "SessionId"
      type        = "Static"
      value       = delivery_property.value
      secret      = false
    }
  }

  dead_letter_identity {
    type = "SystemAssigned"
  }

  storage_blob_dead_letter_destination {
    storage_account_id          = azurerm_storage_account.this.id
    storage_blob_container_name = azurerm_storage_container.event_dead_letters.name
  }

  retry_policy {
    max_delivery_attempts = 30
    event_time_to_live    = 1440
  }

  depends_on = [
    azurerm_role_assignment.events_sender,
    azurerm_role_assignment.events_dead_letter_writer,
  ]
}
