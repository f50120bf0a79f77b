"""Invented articles for tests: our own words, edited the ways real articles are."""

from __future__ import annotations

BRIDGE = [
    "The council voted on Tuesday to close the old river bridge to traffic for repairs that "
    "engineers say are a decade overdue.",
    "Residents said the closure would add twenty minutes to their journeys across town during "
    "the busiest months of the year.",
    "The works are expected to last until the spring, the council said in a statement issued "
    "after the vote.",
    "A temporary footbridge will open next month so that people can still walk to the market.",
]

BRIDGE_EDITED = [
    BRIDGE[0].replace("The council voted", "The town council voted narrowly"),
    BRIDGE[1],
    'The mayor, Ana Ortiz, said: "We had no choice but to act before the winter storms."',
    BRIDGE[2],
    BRIDGE[3],
]

HARBOUR = [
    "Fishing crews at the harbour say the new quotas will cut their catch by a third this "
    "season, and several boats may not put to sea at all.",
    "The fisheries office said the limits follow a survey that found stocks at their lowest "
    "level in twenty years.",
    "A meeting between the crews and officials is planned for next week at the harbour hall.",
]
