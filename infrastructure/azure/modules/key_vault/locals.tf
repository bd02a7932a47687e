locals {
  # Versionless secret IDs: a Container App re-reads the latest version, so rotating a secret
  # is `az keyvault secret set` plus a revision restart, with no Terraform change.
  secret_ids = {
    for name in sort(distinct(concat(var.external_secret_names, nonsensitive(keys(var.platform_secrets))))) :
    name => "${azurerm_key_vault.this.vault_uri}secrets/${name}"
  }

  secrets_officers = merge(
    { for id in var.secrets_officer_principal_ids : id => id },
    length(nonsensitive(keys(var.platform_secrets))) > 0 ? { (data.azurerm_client_config.current.object_id) = data.azurerm_client_config.current.object_id } : {},
  )
}
