"""HTTP controllers. Handlers decode, call one use case, and return; errors map in problems.py."""
