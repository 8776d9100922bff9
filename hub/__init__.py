"""The hub: network identity, OAuth, shops registry, network value, campaigns, console."""
