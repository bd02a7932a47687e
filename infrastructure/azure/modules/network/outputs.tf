output "container_apps_subnet_id" {
  description = "ID of the Container Apps environment's infrastructure subnet; null when isolation is off."
  value       = var.enabled ? azurerm_subnet.container_apps[0].id : null
}

output "private_endpoint_ids" {
  description = "Map of private-link subresource (servicebus, blob, dfs, vault) to its private endpoint ID; empty when isolation is off."
  value       = { for k, pe in azurerm_private_endpoint.this : k => pe.id }
}

output "virtual_network_id" {
  description = "ID of the virtual network; null when isolation is off."
  value       = var.enabled ? azurerm_virtual_network.this[0].id : null
}
