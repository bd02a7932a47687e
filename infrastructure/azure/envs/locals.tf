locals {
  name = "${var.name_prefix}-${var.environment}"
  # Globally unique names (storage, vault, namespace) carry the suffix; the rest do not need it.
  unique_name = "${var.name_prefix}${var.environment}${var.unique_suffix}"
  tags = merge(var.tags, {
    env        = var.environment
    project    = "whoop-data-platform"
    managed_by = "terraform"
  })
}
