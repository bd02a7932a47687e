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

output "table_endpoint" {
  description = "Table service endpoint of the account (token store)."
  value       = azurerm_storage_account.this.primary_table_endpoint
}

output "token_table_id" {
  description = "ARM ID of the token table (scope for table data roles)."
  value       = local.token_table_id
}

output "token_table_name" {
  description = "Name of the token table."
  value       = azurerm_storage_table.tokens.name
}
