"""The race pane: one prompt streaming and blocking at once, side by side (screen, sides, timeline, results)."""
