#!/usr/bin/env bash
# Snapshot the image every container app runs, or roll every app back to a snapshot.
#   revisions.sh snapshot RESOURCE_GROUP FILE   # before a deploy: app<TAB>image per line
#   revisions.sh rollback RESOURCE_GROUP FILE   # after a failed deploy: back to those images
# Rolling back with `az containerapp update --image` creates a new revision from the previous
# image at once; the next successful Terraform apply brings the state back in line.
set -euo pipefail

usage() {
  echo "usage: $0 snapshot|rollback RESOURCE_GROUP FILE" >&2
  exit 2
}

[[ $# -eq 3 ]] || usage
action="$1"
group="$2"
file="$3"

case "$action" in
  snapshot)
    az containerapp list --resource-group "$group" \
      --query "[].[name, properties.template.containers[0].image]" --output tsv >"$file"
    echo "recorded $(wc -l <"$file") apps in $file"
    ;;
  rollback)
    [[ -s "$file" ]] || { echo "no snapshot in $file: nothing to roll back to" >&2; exit 1; }
    while IFS=$'\t' read -r app image; do
      echo "rolling $app back to $image"
      az containerapp update --resource-group "$group" --name "$app" --image "$image" --output none
    done <"$file"
    ;;
  *)
    usage
    ;;
esac
