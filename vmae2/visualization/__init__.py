"""vmae2.visualization."""
