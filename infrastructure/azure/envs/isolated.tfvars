# Network isolation profile: layered over prod (Premium Service Bus), e.g.
#   terraform plan -var-file=prod.tfvars -var-file=isolated.tfvars -var-file=prod.local.tfvars
# Private endpoints + private DNS for Service Bus, the lake (blob, dfs) and Key Vault; a
# VNet-integrated Container Apps environment; public network access off on all three.
# checkov runs with this file (tests/unit/infra) and its network checks must pass.
network_isolation     = true
network_address_space = "10.60.0.0/16"
