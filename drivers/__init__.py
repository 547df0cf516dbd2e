"""Device drivers: one package per device kind (interface, real implementation, simulator)."""
