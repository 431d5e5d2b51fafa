"""The product's rules: plain Python, no Reflex. Every function takes a session."""
