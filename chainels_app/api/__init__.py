"""HTTP routes that live beside the Reflex app on the same origin."""
