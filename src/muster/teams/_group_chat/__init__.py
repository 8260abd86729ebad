"""The group-chat machinery shared by every team: events, manager, participant containers."""
