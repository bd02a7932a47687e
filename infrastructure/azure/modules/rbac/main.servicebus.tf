# Receive on the service's own subscriptions only.
resource "azurerm_role_assignment" "bus_receiver" {
  for_each = local.receives

  scope                = var.subscription_ids[each.value.subscription_key]
  role_definition_name = "Azure Service Bus Data Receiver"
  principal_id         = azurerm_user_assigned_identity.service[each.value.service].principal_id
  principal_type       = "ServicePrincipal"
  description          = "${each.value.service} receives from ${each.value.subscription_key}."
}

# Send on the topics the service publishes to only.
resource "azurerm_role_assignment" "bus_sender" {
  for_each = local.sends

  scope                = var.topic_ids[each.value.topic]
  role_definition_name = "Azure Service Bus Data Sender"
  principal_id         = azurerm_user_assigned_identity.service[each.value.service].principal_id
  principal_type       = "ServicePrincipal"
  description          = "${each.value.service} publishes to ${each.value.topic}."
}

# The scaler identity reads message counts of the same subscriptions (KEDA needs Manage).
resource "azurerm_role_assignment" "bus_scaler" {
  for_each = local.receives

  scope                = var.subscription_ids[each.value.subscription_key]
  role_definition_name = "Azure Service Bus Data Owner"
  principal_id         = azurerm_user_assigned_identity.scaler[each.value.service].principal_id
  principal_type       = "ServicePrincipal"
  description          = "KEDA scaler of ${each.value.service} reads the message count of ${each.value.subscription_key}."
}
