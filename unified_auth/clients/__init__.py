"""One thin driver per HTTP library: each converts its own types at its edge and runs
the core flow."""
