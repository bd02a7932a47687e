output "app_ids" {
  description = "Map of service name to container app ID."
  value       = { for name, app in azurerm_container_app.this : name => app.id }
}

output "app_names" {
  description = "Map of service name to container app name."
  value       = { for name, app in azurerm_container_app.this : name => app.name }
}

output "default_domain" {
  description = "Default DNS domain of the Container Apps environment."
  value       = azurerm_container_app_environment.this.default_domain
}

output "name" {
  description = "Name of the Container Apps environment."
  value       = azurerm_container_app_environment.this.name
}

output "receiver_url" {
  description = "Public HTTPS URL of the receiver (WHOOP OAuth redirect and webhook base); null when no app has ingress."
  value       = try("https://${one([for name, app in azurerm_container_app.this : app.ingress[0].fqdn if var.services[name].ingress])}", null)
}

output "resource_id" {
  description = "ID of the Container Apps environment."
  value       = azurerm_container_app_environment.this.id
}

output "scaling" {
  description = "Map of service name to its effective scaling (defaults merged with var.scaling): min/max replicas, messages per replica, concurrent requests."
  value       = local.scaling
}
