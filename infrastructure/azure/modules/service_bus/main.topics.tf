# One topic per shared.contracts Topic. Duplicate detection makes a re-published message with
# the same message_id (our publishers set it from the payload's natural key) a no-op.
resource "azurerm_servicebus_topic" "this" {
  for_each = var.topics

  name                                    = each.key
  namespace_id                            = azurerm_servicebus_namespace.this.id
  default_message_ttl                     = var.message_ttl
  duplicate_detection_history_time_window = var.duplicate_detection_window
  requires_duplicate_detection            = true
  partitioning_enabled                    = false
  max_size_in_megabytes                   = var.max_topic_size_in_megabytes
  support_ordering                        = true
}
