output "endpoint" {
  description = "Fully qualified namespace host (WDP_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE)."
  value       = "${azurerm_servicebus_namespace.this.name}.servicebus.windows.net"
}

output "name" {
  description = "Name of the Service Bus namespace."
  value       = azurerm_servicebus_namespace.this.name
}

output "resource_id" {
  description = "ID of the Service Bus namespace."
  value       = azurerm_servicebus_namespace.this.id
}

output "subscription_ids" {
  description = "Map of \"topic/subscription\" to subscription ID (RBAC scopes for receivers and KEDA scalers)."
  value       = { for key, sub in azurerm_servicebus_subscription.this : key => sub.id }
}

output "topic_ids" {
  description = "Map of contract topic name to topic ID (RBAC scopes for senders)."
  value       = { for name, topic in azurerm_servicebus_topic.this : name => topic.id }
}
