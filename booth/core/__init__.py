"""Pure domain logic: no Qt, no device library, time is injected."""
