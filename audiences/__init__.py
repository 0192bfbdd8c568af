"""Saved audiences: a segment kept as a recipe, re-evaluated on every new data snapshot, with the
exact membership of each refresh (who joined, who left). Between the bot and discovery:
audiences imports discovery and cdp; neither of them imports audiences. Knows nothing of Slack."""
