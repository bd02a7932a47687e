output "blob_events_topic" {
  description = "Name of the topic that receives Event Grid BlobCreated events from the lake."
  value       = local.blob_events_topic
}

output "services" {
  description = "Map of service name to its wiring: consumed subscriptions, published topics, blob/Key Vault/Snowflake/token access and ingress."
  value       = local.services
}

output "topics" {
  description = "Map of topic name to the list of its subscription names (the shared.contracts topology)."
  value       = local.topics
}
