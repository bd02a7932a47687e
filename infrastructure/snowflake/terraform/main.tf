# WHOOP Data Platform on Snowflake: one database, one schema per layer.
# Names: shared/shared/snowflake_naming.json. Grants: grants.json. See docs/warehouse.md.

# --- storage: one database, schemas per layer with their own Time Travel ------------------

resource "snowflake_database" "this" {
  name                        = local.db
  data_retention_time_in_days = local.n.retention_days.gold
  comment                     = "WHOOP Data Platform (${var.environment}): bronze, silver, gold, published gold, BI views"
}

resource "snowflake_schema" "layer" {
  for_each = local.n.schemas

  database                    = snowflake_database.this.name
  name                        = each.value
  data_retention_time_in_days = local.n.retention_days[each.key]
  # BI views and the governance objects: only the schema owner grants on what is inside.
  with_managed_access = contains(["gold_bi", "governance"], each.key) ? "true" : "false"
  comment             = "WDP layer ${each.key}"
}

# --- compute: a warehouse per workload, each capped by its own resource monitor -----------

resource "snowflake_resource_monitor" "wh" {
  provider = snowflake.account
  for_each = local.n.warehouses

  name                      = "${each.value}_MONITOR"
  credit_quota              = var.monthly_credit_quota[each.key]
  frequency                 = "MONTHLY"
  start_timestamp           = "IMMEDIATELY"
  notify_users              = var.monitor_notify_users
  notify_triggers           = [50, 75, 90]
  suspend_trigger           = 100
  suspend_immediate_trigger = 110
}

resource "snowflake_warehouse" "wh" {
  for_each = local.n.warehouses

  name                = each.value
  warehouse_size      = local.warehouse_settings[each.key].size
  auto_suspend        = local.warehouse_settings[each.key].auto_suspend
  auto_resume         = "true"
  initially_suspended = true
  resource_monitor    = snowflake_resource_monitor.wh[each.key].name
  comment             = "WDP ${each.key} workload"
}

# --- cost attribution tags -------------------------------------------------------------------

resource "snowflake_tag" "cost_center" {
  database       = snowflake_database.this.name
  schema         = snowflake_schema.layer["governance"].name
  name           = local.n.cost_tag
  allowed_values = distinct(values(local.cost_centers))
  comment        = "Workload a warehouse's credits are attributed to"
}

resource "snowflake_tag" "environment" {
  database       = snowflake_database.this.name
  schema         = snowflake_schema.layer["governance"].name
  name           = "ENVIRONMENT"
  allowed_values = ["dev", "test", "prod"]
}

resource "snowflake_tag_association" "warehouse_cost_center" {
  for_each = local.n.warehouses

  object_identifiers = [snowflake_warehouse.wh[each.key].fully_qualified_name]
  object_type        = "WAREHOUSE"
  tag_id             = snowflake_tag.cost_center.fully_qualified_name
  tag_value          = local.cost_centers[each.key]
}

resource "snowflake_tag_association" "environment_database" {
  object_identifiers = [snowflake_database.this.fully_qualified_name]
  object_type        = "DATABASE"
  tag_id             = snowflake_tag.environment.fully_qualified_name
  tag_value          = var.environment
}

resource "snowflake_tag_association" "environment_warehouse" {
  object_identifiers = [for w in snowflake_warehouse.wh : w.fully_qualified_name]
  object_type        = "WAREHOUSE"
  tag_id             = snowflake_tag.environment.fully_qualified_name
  tag_value          = var.environment
}

# --- roles: one functional role per service, the gold publisher, the BI reader -------------

resource "snowflake_account_role" "this" {
  provider = snowflake.security
  for_each = local.n.roles

  name    = each.value
  comment = "WDP ${each.key} (grants: infrastructure/snowflake/terraform/grants.json)"
}

# Every functional role rolls up to SYSADMIN, so administrators can manage what they create.
resource "snowflake_grant_account_role" "to_sysadmin" {
  provider = snowflake.security
  for_each = local.n.roles

  role_name        = snowflake_account_role.this[each.key].name
  parent_role_name = "SYSADMIN"
}

# Role hierarchy derived from USE ROLE: the transformer and the scorer publish GOLD as the
# publisher (the one owner of GOLD_PUBLISHED; SWAP needs ownership of both schemas).
resource "snowflake_grant_account_role" "hierarchy" {
  provider = snowflake.security
  for_each = local.role_grants

  role_name        = snowflake_account_role.this[each.value.role].name
  parent_role_name = snowflake_account_role.this[each.value.to].name
}

resource "snowflake_grant_privileges_to_account_role" "this" {
  provider = snowflake.security
  for_each = local.grants

  account_role_name = snowflake_account_role.this[each.value.role].name
  privileges        = each.value.privileges

  dynamic "on_account_object" {
    for_each = contains(keys(local.account_object_types), each.value.on) ? [each.value] : []
    content {
      object_type = local.account_object_types[on_account_object.value.on]
      object_name = local.grant_targets[on_account_object.value.on][on_account_object.value.object]
    }
  }

  dynamic "on_schema" {
    for_each = each.value.on == "schema" ? [each.value] : []
    content {
      schema_name = local.grant_targets.schema[on_schema.value.object]
    }
  }

  dynamic "on_schema_object" {
    for_each = contains(keys(local.schema_object_types), each.value.on) ? [each.value] : []
    content {
      object_type = local.schema_object_types[on_schema_object.value.on]
      object_name = local.grant_targets[on_schema_object.value.on][on_schema_object.value.object]
    }
  }

  dynamic "on_schema_object" {
    for_each = contains(keys(local.future_plural), each.value.on) ? [each.value] : []
    content {
      future {
        object_type_plural = local.future_plural[on_schema_object.value.on]
        in_schema          = local.grant_targets[on_schema_object.value.on][on_schema_object.value.object]
      }
    }
  }

  depends_on = [snowflake_stage.bronze, snowflake_row_access_policy.member_access]
}

# --- key-pair service users ----------------------------------------------------------------

resource "snowflake_service_user" "svc" {
  provider = snowflake.security
  for_each = local.n.services

  name              = each.value.user
  default_role      = local.n.roles[each.value.role]
  default_warehouse = local.n.warehouses[each.value.warehouse]
  default_namespace = "${local.db}.${local.n.schemas[each.value.schema]}"
  rsa_public_key    = var.service_public_keys[each.key]
  comment           = "WDP ${each.key} service (key-pair auth; private key in Key Vault)"
}

resource "snowflake_grant_account_role" "svc" {
  provider = snowflake.security
  for_each = local.n.services

  role_name = snowflake_account_role.this[each.value.role].name
  user_name = snowflake_service_user.svc[each.key].name
}
