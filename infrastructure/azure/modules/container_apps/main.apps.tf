# One container app per service. Every app runs as its own user-assigned identity (AZURE_CLIENT_ID
# tells DefaultAzureCredential which one), gets its settings as WDP_* environment variables and
# its secrets only as Key Vault references resolved through that identity.
resource "azurerm_container_app" "this" {
  for_each = var.services

  name                         = "${var.app_name_prefix}-${each.key}"
  container_app_environment_id = azurerm_container_app_environment.this.id
  resource_group_name          = var.resource_group_name
  revision_mode                = "Single"
  tags                         = var.tags

  identity {
    type         = "UserAssigned"
    identity_ids = compact([var.identities[each.key].resource_id, lookup(var.scaler_identities, each.key, "")])
  }

  dynamic "registry" {
    for_each = var.container_registry_server == null ? [] : [var.container_registry_server]
    content {
      server   = registry.value
      identity = var.identities[each.key].resource_id
    }
  }

  dynamic "secret" {
    for_each = local.app_secrets[each.key]
    content {
      name                = secret.key
      identity            = var.identities[each.key].resource_id
      key_vault_secret_id = secret.value
    }
  }

  dynamic "ingress" {
    for_each = each.value.ingress ? [var.ingress_target_port] : []
    content {
      external_enabled           = true
      target_port                = ingress.value
      transport                  = "auto"
      allow_insecure_connections = false

      traffic_weight {
        latest_revision = true
        percentage      = 100
      }
    }
  }

  template {
    min_replicas = local.scaling[each.key].min_replicas
    max_replicas = local.scaling[each.key].max_replicas

    # Consumers scale on their subscriptions' backlog with KEDA's azure-servicebus scaler
    # (metric messageCount = target messages per replica). The rule authenticates with the
    # service's scaler identity, so no connection string exists anywhere.
    dynamic "custom_scale_rule" {
      for_each = each.value.consumes
      content {
        name             = replace(custom_scale_rule.key, ".", "-")
        custom_rule_type = "azure-servicebus"
        identity_id      = var.scaler_identities[each.key]
        metadata = {
          namespace        = var.servicebus_namespace_name
          topicName        = custom_scale_rule.key
          subscriptionName = custom_scale_rule.value
          messageCount     = tostring(local.scaling[each.key].messages_per_replica)
        }
      }
    }

    # The receiver scales on concurrent HTTP requests (webhooks and the REST sync API).
    dynamic "http_scale_rule" {
      for_each = each.value.ingress ? [local.scaling[each.key].concurrent_requests] : []
      content {
        name                = "http-concurrency"
        concurrent_requests = tostring(http_scale_rule.value)
      }
    }

    container {
      name = each.key
      # By digest when CI gives one (immutable: what was tested is what runs), else by tag.
      image = (contains(keys(var.image_digests), each.key)
        ? "${var.image_repository_prefix}${each.key}@${var.image_digests[each.key]}"
      : "${var.image_repository_prefix}${each.key}:${var.image_tag}")
      cpu    = local.resources[each.key].cpu
      memory = local.resources[each.key].memory

      dynamic "env" {
        for_each = local.app_env[each.key]
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = local.app_secret_env[each.key]
        content {
          name        = env.key
          secret_name = env.value
        }
      }

      dynamic "liveness_probe" {
        for_each = each.value.ingress ? [var.ingress_target_port] : []
        content {
          transport        = "HTTP"
          port             = liveness_probe.value
          path             = var.health_path
          initial_delay    = 5
          interval_seconds = 10
        }
      }

      dynamic "readiness_probe" {
        for_each = each.value.ingress ? [var.ingress_target_port] : []
        content {
          transport        = "HTTP"
          port             = readiness_probe.value
          path             = var.health_path
          interval_seconds = 5
        }
      }

      # Snowflake key-pair auth: the key is a Key Vault secret mounted as a file.
      dynamic "volume_mounts" {
        for_each = each.value.snowflake ? [local.secrets_mount_path] : []
        content {
          name = "secrets"
          path = volume_mounts.value
        }
      }
    }

    dynamic "volume" {
      for_each = each.value.snowflake ? ["secrets"] : []
      content {
        name         = volume.value
        storage_type = "Secret"
      }
    }
  }
}
