"""vmae2.evaluation."""
