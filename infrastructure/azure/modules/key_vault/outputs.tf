output "name" {
  description = "Name of the Key Vault."
  value       = azurerm_key_vault.this.name
}

output "resource_id" {
  description = "ID of the Key Vault (scope for Key Vault Secrets User)."
  value       = azurerm_key_vault.this.id
}

output "secret_ids" {
  description = "Map of secret name to its versionless secret ID, for Container App Key Vault references."
  value       = local.secret_ids
}

output "vault_uri" {
  description = "Vault URI (WDP_KEY_VAULT_URL)."
  value       = azurerm_key_vault.this.vault_uri
}
