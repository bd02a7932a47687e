# The lake container (bronze/, models/ ...). Created through the management plane so it works
# with shared keys disabled.
resource "azurerm_storage_container" "lake" {
  name                  = var.container_name
  storage_account_id    = azurerm_storage_account.this.id
  container_access_type = "private"
}

# Events Event Grid could not deliver after all retries land here instead of being dropped.
resource "azurerm_storage_container" "event_dead_letters" {
  name                  = "eventgrid-deadletter"
  storage_account_id    = azurerm_storage_account.this.id
  container_access_type = "private"
}
