"""vmae2.apis."""
