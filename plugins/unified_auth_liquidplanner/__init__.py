"""placeholder: filled by the plugin issue."""
