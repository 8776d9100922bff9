"""A shop club's rules: pure functions and value objects, no I/O, no web framework."""
