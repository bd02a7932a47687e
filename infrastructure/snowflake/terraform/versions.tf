terraform {
  required_version = ">= 1.6"

  required_providers {
    snowflake = {
      source  = "Snowflake-Labs/snowflake"
      version = "~> 1.0"
    }
  }
}

# Authentication comes from the environment of whoever applies (SNOWFLAKE_ORGANIZATION_NAME,
# SNOWFLAKE_ACCOUNT_NAME, SNOWFLAKE_USER, SNOWFLAKE_AUTHENTICATOR=SNOWFLAKE_JWT,
# SNOWFLAKE_PRIVATE_KEY_PATH), never from this repository. Objects are created as SYSADMIN,
# roles, users and grants as SECURITYADMIN, the integration and share as ACCOUNTADMIN.
provider "snowflake" {
  role = "SYSADMIN"
}

provider "snowflake" {
  alias = "security"
  role  = "SECURITYADMIN"
}

provider "snowflake" {
  alias = "account"
  role  = "ACCOUNTADMIN"
}
