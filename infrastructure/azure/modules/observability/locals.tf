locals {
  # "log-wdp-dev" -> "appi-wdp-dev": both names come from the one `name` input.
  app_insights_name = replace(var.name, "/^log-/", "appi-")
}
