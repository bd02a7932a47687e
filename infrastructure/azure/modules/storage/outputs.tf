output "blob_endpoint" {
  description = "Blob service endpoint (WDP_BLOB_ACCOUNT_URL)."
  value       = azurerm_storage_account.this.primary_blob_endpoint
}

output "bronze_subject_prefix" {
  description = "Event Grid subject prefix that selects bronze files in the lake container."
  value       = local.bronze_subject_prefix
}

output "container_name" {
  description = "Name of the lake container (WDP_BLOB_CONTAINER)."
  value       = azurerm_storage_container.lake.name
}

output "event_subscription_id" {
  description = "ID of the Event Grid subscription that forwards bronze BlobCreated events."
  value       = azurerm_eventgrid_system_topic_event_subscription.bronze_created.id
}

output "lake_container_id" {
  description = "ARM ID of the lake container (scope for blob data roles)."
  value       = local.lake_container_id
}

output "name" {
  description = "Name of the storage account."
  value       = azurerm_storage_account.this.name
}

output "resource_id" {
  description = "ID of the storage account."
  value       = azurerm_storage_account.this.id
}

output "token_container_id" {
  description = "ARM ID of the token container (scope for the token store's blob data role)."
  value       = local.token_container_id
}

output "token_container_name" {
  description = "Name of the token container."
  value       = azurerm_storage_container.tokens.name
}
