"""The subcommands of `charter`, one module per domain; each adds itself to the parser."""
