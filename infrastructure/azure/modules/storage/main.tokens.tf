# Table for the encrypted WHOOP OAuth tokens (AzureTableTokenStore). Values are encrypted by
# the service with the Key Vault key before they reach the table.
resource "azurerm_storage_table" "tokens" {
  name                 = var.token_table_name
  storage_account_name = azurerm_storage_account.this.name
}
