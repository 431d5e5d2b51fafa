"""One Reflex state per domain; handlers are thin and call the services."""
