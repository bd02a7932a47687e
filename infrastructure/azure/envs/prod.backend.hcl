# Partial azurerm backend config of prod: terraform init -reconfigure -backend-config=prod.backend.hcl
# -backend-config=storage_account_name=<state account> (see docs/infrastructure.md).
resource_group_name = "rg-wdp-tfstate"
container_name      = "tfstate"
key                 = "wdp/prod.tfstate"
