"""Dashboard page handlers, one module per area; each handler takes a `Page`."""
