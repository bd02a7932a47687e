# People and pipelines that set secret values. The deploying principal gets the role too when
# Terraform writes platform-generated secrets (see main.secrets.tf).
resource "azurerm_role_assignment" "secrets_officers" {
  for_each = local.secrets_officers

  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = each.value
  description          = "Sets WDP secret values (never read by Terraform)."
}
