# --- lake access: storage integration + external stage on the bronze prefix ----------------
# After apply: DESC STORAGE INTEGRATION; open AZURE_CONSENT_URL once; infrastructure/azure
# grants the AZURE_MULTI_TENANT_APP_NAME principal "Storage Blob Data Reader" on the container.

resource "snowflake_storage_integration" "lake" {
  provider = snowflake.account

  name                      = local.n.storage_integration
  type                      = "EXTERNAL_STAGE"
  storage_provider          = "AZURE"
  enabled                   = true
  azure_tenant_id           = var.azure_tenant_id
  storage_allowed_locations = ["${var.lake_container_url}bronze/whoop/"]
  comment                   = "Read-only access to the lake's bronze prefix"
}

resource "snowflake_grant_privileges_to_account_role" "integration_to_sysadmin" {
  provider = snowflake.account

  account_role_name = "SYSADMIN"
  privileges        = ["USAGE"]
  on_account_object {
    object_type = "INTEGRATION"
    object_name = snowflake_storage_integration.lake.name
  }
}

resource "snowflake_stage" "bronze" {
  name                = local.n.external_stage
  database            = snowflake_database.this.name
  schema              = snowflake_schema.layer["bronze"].name
  url                 = "${var.lake_container_url}bronze/whoop/"
  storage_integration = snowflake_storage_integration.lake.name
  comment             = "Bronze NDJSON where it lies (loader option WDP_SNOWFLAKE_EXTERNAL_STAGE)"

  depends_on = [snowflake_grant_privileges_to_account_role.integration_to_sysadmin]
}

# --- member-level security: a mapping table drives one row access policy ------------------
# Rows of MEMBER_ACCESS_MAP: (VIEWER_TYPE, VIEWER, USER_KEY), VIEWER_TYPE USER | ROLE | ACCOUNT
# (ACCOUNT = a coach's consumer account reading the share). Maintained by platform admins.

resource "snowflake_table" "member_access_map" {
  database        = snowflake_database.this.name
  schema          = snowflake_schema.layer["governance"].name
  name            = local.n.member_access_table
  comment         = "Who may see which member in the BI views (row access policy ${local.n.row_access_policy})"
  change_tracking = false

  column {
    name     = "VIEWER_TYPE"
    type     = "VARCHAR(16)"
    nullable = false
  }
  column {
    name     = "VIEWER"
    type     = "VARCHAR(256)"
    nullable = false
  }
  column {
    name     = "USER_KEY"
    type     = "NUMBER(19,0)"
    nullable = false
  }
}

resource "snowflake_row_access_policy" "member_access" {
  database = snowflake_database.this.name
  schema   = snowflake_schema.layer["governance"].name
  name     = local.n.row_access_policy

  argument {
    name = "MEMBER"
    type = "NUMBER"
  }

  # Owner's rights: the policy reads the map, the viewer needs no grant on it. The same text
  # is in infrastructure/snowflake/07_secure_views_bi.sql (parsed by the tests).
  body    = <<-SQL
    EXISTS (
        SELECT 1 FROM ${local.db}.${local.n.schemas.governance}.${local.n.member_access_table} AS m
        WHERE m.USER_KEY = MEMBER
          AND (   (m.VIEWER_TYPE = 'USER' AND m.VIEWER = CURRENT_USER())
               OR (m.VIEWER_TYPE = 'ROLE' AND IS_ROLE_IN_SESSION(m.VIEWER))
               OR (m.VIEWER_TYPE = 'ACCOUNT' AND m.VIEWER = CURRENT_ACCOUNT()))
    )
  SQL
  comment = "Each BI viewer sees only the members MEMBER_ACCESS_MAP lists for them"

  depends_on = [snowflake_table.member_access_map]
}

# --- optional: secure share of the BI views with coaches' accounts -------------------------
# The views exist once dbt has built them (docs/warehouse.md, "BI views"); apply the share
# after that. Consumers see only the members the policy's ACCOUNT rows give them.

resource "snowflake_share" "coach" {
  provider = snowflake.account
  count    = length(var.coach_share_accounts) > 0 ? 1 : 0

  name     = local.n.share
  accounts = var.coach_share_accounts
  comment  = "WDP BI views for coaches (row access policy applies per consumer account)"
}

resource "snowflake_grant_privileges_to_share" "database" {
  provider = snowflake.account
  count    = length(snowflake_share.coach)

  to_share    = snowflake_share.coach[0].name
  privileges  = ["USAGE"]
  on_database = snowflake_database.this.name
}

resource "snowflake_grant_privileges_to_share" "schema" {
  provider = snowflake.account
  count    = length(snowflake_share.coach)

  to_share   = snowflake_share.coach[0].name
  privileges = ["USAGE"]
  on_schema  = "\"${local.db}\".\"${local.n.schemas.gold_bi}\""

  depends_on = [snowflake_grant_privileges_to_share.database]
}

resource "snowflake_grant_privileges_to_share" "views" {
  provider = snowflake.account
  for_each = length(snowflake_share.coach) > 0 ? local.n.bi_views : {}

  to_share   = snowflake_share.coach[0].name
  privileges = ["SELECT"]
  on_view    = "\"${local.db}\".\"${local.n.schemas.gold_bi}\".\"${each.key}\""

  depends_on = [snowflake_grant_privileges_to_share.schema]
}
