"""The config file: loading, the value types it is made of, and where secrets come from."""
