locals {
  # Subject of a BlobCreated event for a bronze file, up to the file's own path.
  bronze_subject_prefix = "/blobServices/default/containers/${var.container_name}/blobs/bronze/"

  diagnostic_targets = {
    blob = "${azurerm_storage_account.this.id}/blobServices/default"
  }

  # Container-level ARM IDs: role assignments are scoped here, not to the whole account.
  event_dead_letters_container_id = "${azurerm_storage_account.this.id}/blobServices/default/containers/${azurerm_storage_container.event_dead_letters.name}"
  lake_container_id               = "${azurerm_storage_account.this.id}/blobServices/default/containers/${azurerm_storage_container.lake.name}"
  token_container_id              = "${azurerm_storage_account.this.id}/blobServices/default/containers/${azurerm_storage_container.tokens.name}"
}
