# Partial azurerm backend config of dev: terraform init -reconfigure -backend-config=dev.backend.hcl
# -backend-config=storage_account_name=<state account> (see docs/infrastructure.md).
resource_group_name = "rg-wdp-tfstate"
container_name      = "tfstate"
key                 = "wdp/dev.tfstate"
