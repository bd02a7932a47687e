#!/usr/bin/env bash
# Post-deploy smoke test: the receiver answers /healthz, and every container app's latest
# revision is provisioned and running (a crash-looping consumer fails here, not in a week).
#   smoke.sh RESOURCE_GROUP RECEIVER_URL
set -euo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 RESOURCE_GROUP RECEIVER_URL" >&2; exit 2; }
group="$1"
receiver_url="$2"

for attempt in $(seq 1 30); do
  if curl --fail --silent --show-error --max-time 10 "$receiver_url/healthz" >/dev/null; then
    echo "receiver healthy (attempt $attempt)"
    break
  fi
  [[ $attempt -eq 30 ]] && { echo "receiver not healthy at $receiver_url/healthz" >&2; exit 1; }
  sleep 10
done

failed=0
while read -r app; do
  revision=$(az containerapp show --resource-group "$group" --name "$app" \
    --query properties.latestRevisionName --output tsv)
  state=$(az containerapp revision show --resource-group "$group" --name "$app" \
    --revision "$revision" --query "[properties.provisioningState, properties.runningState]" \
    --output tsv | tr '\t' ' ')
  echo "$app $revision: $state"
  case "$state" in
    "Provisioned Running" | "Provisioned RunningAtMaxScale" | "Provisioned ScaledToZero" | "Provisioned Activating") ;;
    *) failed=1 ;;
  esac
done < <(az containerapp list --resource-group "$group" --query "[].name" --output tsv)
exit "$failed"
