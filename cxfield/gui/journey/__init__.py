"""The journey map: its editor, the map view with the aggregated curves."""
