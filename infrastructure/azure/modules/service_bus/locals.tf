locals {
  # Flatten topic => [subscriptions] into one addressable map keyed "topic/subscription".
  subscriptions = merge([
    for topic, names in var.topics : {
      for name in names : "${topic}/${name}" => {
        topic        = topic
        subscription = name
      }
    }
  ]...)
}
