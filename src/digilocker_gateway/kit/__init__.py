"""Small helpers shared by every domain: clocks, time formatting."""
