locals {
  # Services that consume at least one subscription (and so scale with KEDA).
  consumers = { for name, svc in var.services : name => svc if length(svc.consumes) > 0 }

  # "service|topic/subscription" => which identity receives from which subscription.
  receives = merge([
    for name, svc in var.services : {
      for topic, subscription in svc.consumes : "${name}|${topic}/${subscription}" => {
        service          = name
        subscription_key = "${topic}/${subscription}"
      }
    }
  ]...)

  # "service|topic" => which identity sends to which topic.
  sends = merge([
    for name, svc in var.services : {
      for topic in svc.publishes : "${name}|${topic}" => {
        service = name
        topic   = topic
      }
    }
  ]...)

  blob_readers = { for name, svc in var.services : name => svc if svc.blob_access == "read" }
  blob_writers = { for name, svc in var.services : name => svc if svc.blob_access == "write" }

  token_users = { for name, svc in var.services : name => svc if svc.tokens }
}
