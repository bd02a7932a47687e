# One subscription per (topic, consumer) declared in shared.contracts.SUBSCRIPTIONS. Settings
# mirror the LocalBus semantics the services are tested against: peek-lock, max delivery
# count 10 then dead-letter, expired messages dead-lettered rather than dropped. With sessions
# on, every subscription requires them, because ServiceBusBus then opens session receivers
# everywhere: user messages are keyed by user id, the rest share the "_shared" session.
resource "azurerm_servicebus_subscription" "this" {
  for_each = local.subscriptions

  name                                      = each.value.subscription
  topic_id                                  = azurerm_servicebus_topic.this[each.value.topic].id
  max_delivery_count                        = var.max_delivery_count
  lock_duration                             = var.lock_duration
  default_message_ttl                       = var.message_ttl
  dead_lettering_on_message_expiration      = true
  dead_lettering_on_filter_evaluation_error = true
  requires_session                          = var.sessions_enabled
  batched_operations_enabled                = true
}
