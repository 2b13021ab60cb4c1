"""The core: routing, the broker and its fetches, and the one request flow every client
drives."""
