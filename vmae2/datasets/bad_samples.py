"""Bookkeeping of unreadable samples: log each, count them, stop when there are too many.

Large video collections always hold a few broken files (K400 downloads lose ~1%); one of them
must not end a week-long run. Too many of them, though, mean a wrong root or a broken mount, and
training on the few readable leftovers would waste the run quietly; so past a share of bad
samples the run stops with an error that names examples.

The counts are per process: each DataLoader worker sees a random part of the data, so its share
estimates the whole one without any shared state between workers.
"""
import logging
from typing import List

from mmengine.logging import print_log


class TooManyBadSamplesError(RuntimeError):
    """Raised when the share of unreadable samples passes the configured limit."""


class BadSampleTracker:
    """Counts good and bad samples of one process and enforces the limit.

    Args:
        max_bad_ratio: Largest tolerated share of bad samples among those tried.
        min_tried: The share is judged only after this many samples, so that one broken file
            among the first few does not look like 50% bad data.
        num_examples: How many bad paths the error quotes.
    """

    def __init__(self, max_bad_ratio: float = 0.1, min_tried: int = 50,
                 num_examples: int = 5) -> None:
        if not 0 <= max_bad_ratio <= 1:
            raise ValueError(f'max_bad_ratio must be in [0, 1], got {max_bad_ratio}')
        self.max_bad_ratio = max_bad_ratio
        self.min_tried = min_tried
        self.num_examples = num_examples
        self.num_good = 0
        self.num_bad = 0
        self.examples: List[str] = []

    @property
    def num_tried(self) -> int:
        return self.num_good + self.num_bad

    @property
    def bad_ratio(self) -> float:
        return self.num_bad / max(self.num_tried, 1)

    def good(self) -> None:
        self.num_good += 1

    def bad(self, path: str, error: BaseException) -> None:
        """Logs and counts one bad sample; raises when the share passes the limit."""
        self.num_bad += 1
        if len(self.examples) < self.num_examples:
            self.examples.append(f'{path} ({error})')
        print_log(
            f'skipping unreadable sample {path}: {error} '
            f'[{self.num_bad} bad of {self.num_tried} tried in this process]',
            logger='current',
            level=logging.WARNING)
        if self.num_tried >= self.min_tried and self.bad_ratio > self.max_bad_ratio:
            raise TooManyBadSamplesError(self.summary('too many unreadable samples'))

    def summary(self, headline: str) -> str:
        """Error text: counts, limit and example paths with their errors."""
        examples = '\n  '.join(self.examples)
        return (f'{headline}: {self.num_bad} of {self.num_tried} samples tried in this process '
                f'({self.bad_ratio:.1%}) could not be read, limit max_bad_ratio='
                f'{self.max_bad_ratio:.1%}. Check the data root and list files. '
                f'Examples:\n  {examples}')
