"""The edge: HTTP, CLI and process start-up."""
