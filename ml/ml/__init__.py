"""Recovery prediction and anomaly models (features, train, evaluate, predict)."""
