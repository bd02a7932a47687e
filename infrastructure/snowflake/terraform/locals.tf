locals {
  # The one naming source (also read by the services, the Azure container apps and the tests).
  n  = jsondecode(file("${path.module}/../../../shared/shared/snowflake_naming.json"))
  db = local.n.database

  # Grants derived from the statements each service runs (tests/unit/infra/
  # test_snowflake_grants.py fails if this file grants more or less than they need).
  g = jsondecode(file("${path.module}/grants.json"))

  # Per workload: size and how soon an idle warehouse stops billing.
  warehouse_settings = {
    loader      = { size = "XSMALL", auto_suspend = 60 }
    transformer = { size = "XSMALL", auto_suspend = 60 }
    scorer      = { size = "XSMALL", auto_suspend = 60 }
    bi_reader   = { size = "XSMALL", auto_suspend = 300 }
  }

  # Fully qualified, quoted names of what grants.json points at.
  grant_targets = {
    database          = { for k in ["database"] : k => local.db }
    warehouse         = local.n.warehouses
    integration       = { storage_integration = local.n.storage_integration }
    schema            = { for k, s in local.n.schemas : k => "\"${local.db}\".\"${s}\"" }
    future_tables     = { for k, s in local.n.schemas : k => "\"${local.db}\".\"${s}\"" }
    future_views      = { for k, s in local.n.schemas : k => "\"${local.db}\".\"${s}\"" }
    stage             = { external_stage = "\"${local.db}\".\"${local.n.schemas.bronze}\".\"${local.n.external_stage}\"" }
    row_access_policy = { member_access = "\"${local.db}\".\"${local.n.schemas.governance}\".\"${local.n.row_access_policy}\"" }
  }
  account_object_types = { database = "DATABASE", warehouse = "WAREHOUSE", integration = "INTEGRATION" }
  schema_object_types  = { stage = "STAGE", row_access_policy = "ROW ACCESS POLICY" }
  future_plural        = { future_tables = "TABLES", future_views = "VIEWS" }

  grants = { for gr in local.g.grants : "${gr.role}|${gr.on}|${gr.object}" => gr }

  role_grants = merge([
    for role, parents in local.g.role_grants : { for p in parents : "${p}>${role}" => { role = p, to = role } }
  ]...)

  # Every object is tagged: Snowflake's cost views (TAG_REFERENCES x WAREHOUSE_METERING_HISTORY)
  # attribute credits and storage per workload and environment.
  cost_centers = {
    loader      = "ingest"
    transformer = "transform"
    scorer      = "ml"
    bi_reader   = "bi"
  }
}
