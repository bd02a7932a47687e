# Private container for the encrypted WHOOP OAuth tokens (AzureBlobTokenStore): one Fernet
# ciphertext per user, plus lock blobs whose leases serialise refreshes across replicas. It is
# separate from the lake so no lake reader can ever list it.
resource "azurerm_storage_container" "tokens" {
  name                  = var.token_container_name
  storage_account_id    = azurerm_storage_account.this.id
  container_access_type = "private"
}
