terraform {
  required_version = "~> 1.11"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.70"
    }
  }

  # State lives in an Azure Storage container created once per subscription (see
  # docs/infrastructure.md). Everything environment-specific comes from -backend-config:
  # envs/dev.backend.hcl and envs/prod.backend.hcl keep the two states apart.
  backend "azurerm" {
    use_azuread_auth = true
  }
}
