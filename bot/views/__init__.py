"""Block Kit builders: pure functions from plain data to message dicts (`text` + `blocks`).

Every builder keeps Slack's limits (50 blocks, 3,000-character sections, 10 fields, 150-character
headers, 75-character button labels): long content is cut with a note, never rejected by Slack.
"""
