output "service_users" {
  description = "Snowflake user, role, warehouse and session schema of each service (the Azure container apps read the same naming file)."
  value = {
    for name, svc in local.n.services : name => {
      user      = snowflake_service_user.svc[name].name
      role      = local.n.roles[svc.role]
      warehouse = local.n.warehouses[svc.warehouse]
      schema    = local.n.schemas[svc.schema]
    }
  }
}

output "storage_integration" {
  description = "Run DESC STORAGE INTEGRATION on this name for the consent URL and the app to grant on the container."
  value       = snowflake_storage_integration.lake.name
}
