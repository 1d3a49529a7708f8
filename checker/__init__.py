"""ringcheck package."""
