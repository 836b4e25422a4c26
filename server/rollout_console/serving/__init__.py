"""``rollout-console serve-policy``: serve a local policy over openpi's WebSocket protocol."""
