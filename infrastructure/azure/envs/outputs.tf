output "container_app_names" {
  description = "Map of service name to container app name."
  value       = module.container_apps.app_names
}

output "identities" {
  description = "Map of service name to its runtime managed identity (client ID, principal ID, resource ID)."
  value       = module.rbac.identities
}

output "key_vault_uri" {
  description = "Key Vault URI; set the secrets listed in docs/infrastructure.md here."
  value       = module.key_vault.vault_uri
}

output "receiver_url" {
  description = "Public URL of the receiver; register <url>/... as the WHOOP redirect and webhook URLs."
  value       = module.container_apps.receiver_url
}

output "servicebus_endpoint" {
  description = "Fully qualified Service Bus namespace."
  value       = module.service_bus.endpoint
}

output "storage_account_name" {
  description = "Name of the ADLS Gen2 lake account."
  value       = module.storage.name
}
