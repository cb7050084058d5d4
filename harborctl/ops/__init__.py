"""Day-2 operations on a running deployment: reading its logs, diagnosing it."""
